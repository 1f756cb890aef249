// The control plane's config files: EncryptionConfiguration (Secrets at rest, aescbc with the
// generated key, identity to read what was written before), KubeSchedulerConfiguration and
// AuthenticationConfiguration (anonymous access only to the health endpoints). The version matrix
// decides each file's apiVersion, and whether the version has the file at all.
import { stringify } from 'yaml';
import type { KubeVersion } from '../../spec/version.ts';
import { authenticationConfigApiVersion, encryptionConfigFormat, schedulerConfigApiVersion } from '../../spec/matrix.ts';

const yaml = (o: unknown): string => stringify(o, { lineWidth: 0 });

/** Name of the aescbc key in the EncryptionConfiguration (a rotation adds key2 in front). */
export const ENCRYPTION_KEY_NAME = 'key1';

export function renderEncryptionConfig(version: KubeVersion, encryptionKey: string): string {
  const { apiVersion, kind } = encryptionConfigFormat(version);
  return yaml({
    apiVersion,
    kind,
    resources: [
      {
        resources: ['secrets'],
        // identity last: Secrets written before encryption was on stay readable
        providers: [{ aescbc: { keys: [{ name: ENCRYPTION_KEY_NAME, secret: encryptionKey }] } }, { identity: {} }],
      },
    ],
  });
}

/** KubeSchedulerConfiguration, or undefined where the version's scheduler takes flags instead. */
export function renderSchedulerConfig(version: KubeVersion, kubeconfigPath: string): string | undefined {
  const apiVersion = schedulerConfigApiVersion(version);
  if (apiVersion === undefined) return undefined;
  return yaml({
    apiVersion,
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath },
    leaderElection: { leaderElect: true },
  });
}

/** The health endpoints load balancers and `verify` probe without credentials. */
export const ANONYMOUS_PATHS = ['/livez', '/readyz', '/healthz'] as const;

/** AuthenticationConfiguration, or undefined where the version cannot confine anonymous access to paths. */
export function renderAuthenticationConfig(version: KubeVersion): string | undefined {
  const apiVersion = authenticationConfigApiVersion(version);
  if (apiVersion === undefined) return undefined;
  return yaml({
    apiVersion,
    kind: 'AuthenticationConfiguration',
    anonymous: { enabled: true, conditions: ANONYMOUS_PATHS.map((path) => ({ path })) },
  });
}
