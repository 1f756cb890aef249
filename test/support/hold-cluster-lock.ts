// A second kubewright process for lock tests: takes the cluster lock of the spec in argv[2] with
// the product's own lockCluster, prints "locked" and holds it until SIGTERM (then releases it) or
// SIGKILL (then the lock file stays behind, stale).
import { parseCluster } from '../../src/spec/cluster.ts';
import { lockCluster } from '../../src/run/cluster-lock.ts';
import { readFileSync } from 'node:fs';

const spec = process.argv[2] ?? '';
const cluster = parseCluster(readFileSync(spec, 'utf8'), spec);
const lock = await lockCluster(cluster, process.argv[3] ?? 'test holder', 0);
process.stdout.write('locked\n');
process.on('SIGTERM', () => {
  void lock.release().then(() => process.exit(0));
});
setInterval(() => undefined, 1_000);
