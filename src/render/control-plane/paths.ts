// Where a control-plane host keeps each file. The seed profile follows Kubernetes The Hard Way of
// the post's time (certificates and configs in /var/lib/kubernetes, binaries beside the workers'
// in /usr/bin); the modern profile follows kubeadm's layout (/etc/kubernetes, /etc/kubernetes/pki).
import type { Profile } from '../../spec/cluster.ts';
import { installPaths } from '../release-binaries.ts';
import { SYSTEMD_DIR } from '../unit-file.ts';
import { masterApiPort } from '../../spec/control-plane-droplets.ts';

export interface ControlPlanePaths {
  apiserverBinary: string;
  controllerManagerBinary: string;
  schedulerBinary: string;
  apiserverUnit: string;
  controllerManagerUnit: string;
  schedulerUnit: string;
  ca: string;
  caKey: string;
  etcdCa: string;
  apiserverCert: string;
  apiserverKey: string;
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  apiserverEtcdClientCert: string;
  apiserverEtcdClientKey: string;
  frontProxyCa: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  controllerManagerCert: string;
  controllerManagerKey: string;
  schedulerCert: string;
  schedulerKey: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
  schedulerConfig: string;
  encryptionConfig: string;
  authenticationConfig: string;
  auditLog: string;
}

function pathsIn(pki: string, conf: string, bin: string): ControlPlanePaths {
  return {
    apiserverBinary: `${bin}/kube-apiserver`,
    controllerManagerBinary: `${bin}/kube-controller-manager`,
    schedulerBinary: `${bin}/kube-scheduler`,
    apiserverUnit: `${SYSTEMD_DIR}/kube-apiserver.service`,
    controllerManagerUnit: `${SYSTEMD_DIR}/kube-controller-manager.service`,
    schedulerUnit: `${SYSTEMD_DIR}/kube-scheduler.service`,
    ca: `${pki}/ca.pem`,
    caKey: `${pki}/ca-key.pem`,
    etcdCa: `${pki}/etcd-ca.pem`,
    apiserverCert: `${pki}/kube-apiserver.pem`,
    apiserverKey: `${pki}/kube-apiserver-key.pem`,
    apiserverKubeletClientCert: `${pki}/apiserver-kubelet-client.pem`,
    apiserverKubeletClientKey: `${pki}/apiserver-kubelet-client-key.pem`,
    apiserverEtcdClientCert: `${pki}/apiserver-etcd-client.pem`,
    apiserverEtcdClientKey: `${pki}/apiserver-etcd-client-key.pem`,
    frontProxyCa: `${pki}/front-proxy-ca.pem`,
    frontProxyClientCert: `${pki}/front-proxy-client.pem`,
    frontProxyClientKey: `${pki}/front-proxy-client-key.pem`,
    serviceAccountPublicKey: `${pki}/service-account.pem`,
    serviceAccountPrivateKey: `${pki}/service-account-key.pem`,
    controllerManagerCert: `${pki}/kube-controller-manager.pem`,
    controllerManagerKey: `${pki}/kube-controller-manager-key.pem`,
    schedulerCert: `${pki}/kube-scheduler.pem`,
    schedulerKey: `${pki}/kube-scheduler-key.pem`,
    controllerManagerKubeconfig: `${conf}/kube-controller-manager.kubeconfig`,
    schedulerKubeconfig: `${conf}/kube-scheduler.kubeconfig`,
    schedulerConfig: `${conf}/kube-scheduler.yaml`,
    encryptionConfig: `${conf}/encryption-config.yaml`,
    authenticationConfig: `${conf}/authentication-config.yaml`,
    auditLog: '/var/log/kubernetes/audit.log',
  };
}

export const controlPlanePaths: Record<Profile, ControlPlanePaths> = {
  seed: pathsIn('/var/lib/kubernetes', '/var/lib/kubernetes', installPaths.seed.bin),
  modern: pathsIn('/etc/kubernetes/pki', '/etc/kubernetes', installPaths.modern.bin),
};

/** The port kube-apiserver serves on (TLS), on every master and behind the endpoint. */
export const API_SERVER_PORT = masterApiPort;
