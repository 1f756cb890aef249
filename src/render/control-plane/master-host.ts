// One control-plane host: its certificate files (when the PKI material is at hand), the
// controller-manager and scheduler kubeconfigs, the config files, the three units in start order
// (kube-apiserver, then kube-controller-manager and kube-scheduler) and what restarts each.
import type { Host } from '../../spec/host.ts';
import { renderKubeconfig } from '../kubeconfig.ts';
import { controlPlaneBinariesFor } from '../release-binaries.ts';
import type { RenderedFile, RenderedHost } from '../types.ts';
import { renderAuthenticationConfig, renderEncryptionConfig, renderSchedulerConfig } from './config-files.ts';
import type { ControlPlaneRenderInput } from './input.ts';
import { API_SERVER_PORT, controlPlanePaths, type ControlPlanePaths } from './paths.ts';
import { renderApiserverUnit, renderControllerManagerUnit, renderSchedulerUnit } from './units.ts';
import type { ControlPlaneCredentials } from '../../spec/credentials.ts';

const pub = (path: string, contents: string): RenderedFile => ({ path, mode: 0o644, contents });
const secret = (path: string, contents: string): RenderedFile => ({ path, mode: 0o600, contents, secret: true });

/** kube-controller-manager and kube-scheduler talk to the API server on their own host (its certificate has 127.0.0.1). */
export const LOCAL_API_SERVER = `https://127.0.0.1:${API_SERVER_PORT}`;

function credentialFiles(p: ControlPlanePaths, c: ControlPlaneCredentials): { apiserver: RenderedFile[]; controllerManager: RenderedFile[]; scheduler: RenderedFile[] } {
  return {
    apiserver: [
      pub(p.ca, c.caPem),
      pub(p.etcdCa, c.etcdCaPem),
      pub(p.apiserverCert, c.apiserver.certPem),
      secret(p.apiserverKey, c.apiserver.keyPem),
      pub(p.apiserverKubeletClientCert, c.apiserverKubeletClient.certPem),
      secret(p.apiserverKubeletClientKey, c.apiserverKubeletClient.keyPem),
      pub(p.apiserverEtcdClientCert, c.apiserverEtcdClient.certPem),
      secret(p.apiserverEtcdClientKey, c.apiserverEtcdClient.keyPem),
      pub(p.frontProxyCa, c.frontProxyCaPem),
      pub(p.frontProxyClientCert, c.frontProxyClient.certPem),
      secret(p.frontProxyClientKey, c.frontProxyClient.keyPem),
      pub(p.serviceAccountPublicKey, c.serviceAccount.publicKeyPem),
    ],
    controllerManager: [
      secret(p.caKey, c.caKeyPem),
      secret(p.serviceAccountPrivateKey, c.serviceAccount.privateKeyPem),
      pub(p.controllerManagerCert, c.controllerManager.certPem),
      secret(p.controllerManagerKey, c.controllerManager.keyPem),
    ],
    scheduler: [pub(p.schedulerCert, c.scheduler.certPem), secret(p.schedulerKey, c.scheduler.keyPem)],
  };
}

/** The encryption config needs the key: rendered without credentials (`render` before any PKI) it shows this marker instead. */
export const ENCRYPTION_KEY_PLACEHOLDER = '<the encryption key from the PKI directory>';

export function renderControlPlaneHost(input: ControlPlaneRenderInput, master: Host): RenderedHost {
  const { cluster, credentials } = input;
  const v = cluster.kubernetes.version;
  const p = controlPlanePaths[cluster.profile];
  const binaries = controlPlaneBinariesFor(cluster, { kubernetesVersion: input.kubernetesVersion, unresolved: 'placeholder' });
  const creds = credentials ? credentialFiles(p, credentials) : { apiserver: [], controllerManager: [], scheduler: [] };

  const kubeconfig = (user: string, cert: string, key: string): string =>
    renderKubeconfig({ clusterName: cluster.name, server: LOCAL_API_SERVER, user, context: 'default', ca: { path: p.ca }, client: { certPath: cert, keyPath: key } });
  const encryption = secret(p.encryptionConfig, renderEncryptionConfig(v, credentials?.encryptionKey ?? ENCRYPTION_KEY_PLACEHOLDER));
  const authentication = renderAuthenticationConfig(v);
  const schedulerConfig = renderSchedulerConfig(v, p.schedulerKubeconfig);

  const apiserverFiles = [...creds.apiserver, encryption, ...(authentication === undefined ? [] : [pub(p.authenticationConfig, authentication)])];
  const controllerManagerFiles = [...creds.controllerManager, pub(p.controllerManagerKubeconfig, kubeconfig('system:kube-controller-manager', p.controllerManagerCert, p.controllerManagerKey))];
  const schedulerFiles = [
    ...creds.scheduler,
    pub(p.schedulerKubeconfig, kubeconfig('system:kube-scheduler', p.schedulerCert, p.schedulerKey)),
    ...(schedulerConfig === undefined ? [] : [pub(p.schedulerConfig, schedulerConfig)]),
  ];
  const units = {
    apiserver: pub(p.apiserverUnit, renderApiserverUnit(input, master)),
    controllerManager: pub(p.controllerManagerUnit, renderControllerManagerUnit(cluster)),
    scheduler: pub(p.schedulerUnit, renderSchedulerUnit(cluster)),
  };
  const paths = (files: RenderedFile[]): string[] => files.map((f) => f.path);
  // the CA is read by all three; a new CA restarts each
  const shared = creds.apiserver.length > 0 ? [p.ca] : [];
  return {
    name: master.name,
    files: [...apiserverFiles, ...controllerManagerFiles, ...schedulerFiles, units.apiserver, units.controllerManager, units.scheduler],
    units: [
      { name: 'kube-apiserver', dependsOn: [...paths(apiserverFiles), units.apiserver.path, p.apiserverBinary] },
      { name: 'kube-controller-manager', dependsOn: [...shared, ...paths(controllerManagerFiles), units.controllerManager.path, p.controllerManagerBinary] },
      { name: 'kube-scheduler', dependsOn: [...shared, ...paths(schedulerFiles), units.scheduler.path, p.schedulerBinary] },
    ],
    binaries,
  };
}
