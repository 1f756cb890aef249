// Judges rendered KubeletConfiguration / KubeProxyConfiguration files against the schemas
// generated from the upstream Go types of each minor (generate-schemas.ts, README.md here):
// strictly, as the kubelet and kube-proxy decode them — an unknown field is an error.
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { definitionRef, type ComponentSchemas } from './generate-schemas.ts';

export type ConfigComponent = 'kubelet' | 'kube-proxy' | 'kube-scheduler' | 'encryption-config' | 'authentication-config';

export const CONFIG_API: Record<ConfigComponent, { apiVersion: string; kind: string }> = {
  kubelet: { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' },
  'kube-proxy': { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration' },
  // the control plane's files change apiVersion between minors: each generated minor records its own
  'kube-scheduler': { apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration' },
  'encryption-config': { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration' },
  'authentication-config': { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthenticationConfiguration' },
};

const cache = new Map<string, Ajv.ValidateFunction>();
const files = new Map<ConfigComponent, ComponentSchemas>();

export function componentSchemas(component: ConfigComponent): ComponentSchemas {
  let s = files.get(component);
  if (!s) {
    s = JSON.parse(readFileSync(new URL(`./${component}.schemas.json`, import.meta.url), 'utf8')) as ComponentSchemas;
    files.set(component, s);
  }
  return s;
}

/** The generated minors; before the first (1.12, where the staging repos begin) the first one judges. */
export function judgedMinor(component: ConfigComponent, minor: number): number {
  const minors = Object.keys(componentSchemas(component).minors).map((m) => Number(m.split('.')[1]));
  const first = Math.min(...minors);
  if (minor > Math.max(...minors)) throw new Error(`${component}: no schema generated for 1.${minor} — re-run generate-schemas.ts`);
  return Math.max(minor, first);
}

function validatorFor(component: ConfigComponent, minor: number): Ajv.ValidateFunction {
  const key = `${component} ${minor}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const s = componentSchemas(component);
  const m = s.minors[`1.${minor}`];
  if (!m) throw new Error(`${component}: no schema for 1.${minor}`);
  const definitions = Object.fromEntries(Object.entries(m.definitions).map(([k, id]) => [k, s.variants[id]]));
  const ajv = new Ajv({ allErrors: true, logger: false });
  const validate = ajv.compile({ definitions, $ref: definitionRef(m.root) });
  cache.set(key, validate);
  return validate;
}

/** Problems of a parsed config file for Kubernetes 1.<minor> (empty: the kubelet / kube-proxy would accept it). */
export function validateComponentConfig(component: ConfigComponent, config: unknown, minor: number): string[] {
  const problems: string[] = [];
  const { kind } = CONFIG_API[component];
  const apiVersion = componentSchemas(component).minors[`1.${judgedMinor(component, minor)}`]?.apiVersion ?? CONFIG_API[component].apiVersion;
  const c = (config ?? {}) as { apiVersion?: unknown; kind?: unknown };
  if (c.apiVersion !== apiVersion) problems.push(`apiVersion: must be ${apiVersion} (got ${String(c.apiVersion)})`);
  if (c.kind !== kind) problems.push(`kind: must be ${kind} (got ${String(c.kind)})`);
  const validate = validatorFor(component, judgedMinor(component, minor));
  if (!validate(config)) {
    for (const e of validate.errors ?? []) {
      const at = e.dataPath || '(root)';
      if (e.keyword === 'additionalProperties') problems.push(`${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`);
      else problems.push(`${at}: ${e.message ?? e.keyword}`);
    }
  }
  return problems;
}
