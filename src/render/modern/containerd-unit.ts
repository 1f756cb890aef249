// containerd.service, after upstream containerd's unit (Delegate, KillMode=process so a restart
// keeps running containers, no task/file limits), with the post's Restart=always/RestartSec=15.
//
// Ordering: After=flanneld.service keeps the start order etcd-lookup → flanneld → containerd →
// kubelet, but there is deliberately no Requires=: containerd never reads flannel's files (the CNI
// plugin reads /run/flannel/subnet.env when a pod sandbox is created), and Requires= would stop or
// restart containerd whenever flanneld is stopped or restarted.
import { renderServiceUnit } from '../unit-file.ts';
import { modernPaths } from './paths.ts';

export function renderContainerdUnit(): string {
  return renderServiceUnit({
    unit: [
      ['Description', 'containerd container runtime'],
      ['Documentation', 'https://containerd.io'],
      ['After', 'network.target local-fs.target flanneld.service'],
    ],
    service: [
      // the overlay snapshotter needs the module; `-` because it may be built in
      ['ExecStartPre', '-/sbin/modprobe overlay'],
      ['ExecStart', `${modernPaths.containerdBinary} --config ${modernPaths.containerdConfig}`],
      ['Type', 'notify'],
      ['Delegate', 'yes'],
      ['KillMode', 'process'],
    ],
    afterRestart: [
      ['LimitNPROC', 'infinity'],
      ['LimitCORE', 'infinity'],
      ['TasksMax', 'infinity'],
      ['OOMScoreAdjust', '-999'],
    ],
  });
}
