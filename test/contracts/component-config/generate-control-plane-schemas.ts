// Generates JSON schemas of the control plane's config files from the upstream Go types, with
// generate-schemas.ts's parser, one apiVersion per range of minors (the one kubewright renders there):
//   KubeSchedulerConfiguration  kubernetes/kube-scheduler config/<version>/types.go (1.12 …)
//   EncryptionConfiguration     kubernetes/apiserver pkg/apis/config/v1 (1.13 … 1.29), pkg/apis/apiserver/v1 (1.30 …)
//   AuthenticationConfiguration kubernetes/apiserver pkg/apis/apiserver/v1beta1 (1.32, 1.33), v1 (1.34 …)
// Each minor records its apiVersion, tag and source commits.
//
// Usage: node --import tsx test/contracts/component-config/generate-control-plane-schemas.ts <dir holding kube-scheduler/ apiserver/ component-base/ apimachinery/ git dirs>
// Writes kube-scheduler.schemas.json, encryption-config.schemas.json, authentication-config.schemas.json beside this script.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, type ComponentSchemas, type Source } from './generate-schemas.ts';

interface Range {
  from: number;
  to: number;
  apiVersion: string;
  rootPkg: string;
  own: Source[];
}

function generateRanges(repos: string, component: string, kind: string, ranges: Range[]): ComponentSchemas {
  const out: ComponentSchemas = { component, kind, generatedBy: 'test/contracts/component-config/generate-control-plane-schemas.ts', minors: {}, variants: {} };
  for (const r of ranges) {
    const part = generate(repos, component, kind, r.rootPkg, r.own, r.from, r.to);
    Object.assign(out.variants, part.variants);
    for (const [minor, m] of Object.entries(part.minors)) out.minors[minor] = { ...m, apiVersion: r.apiVersion };
  }
  return out;
}

const scheduler = (version: string, from: number, to: number, files = ['types.go']): Range => ({
  from,
  to,
  apiVersion: `kubescheduler.config.k8s.io/${version}`,
  rootPkg: `k8s.io/kube-scheduler/config/${version}`,
  own: [
    ...files.map((f) => ({ repo: 'kube-scheduler', path: `config/${version}/${f}`, pkg: `k8s.io/kube-scheduler/config/${version}` })),
    // LeaderElectionConfiguration lived in k8s.io/apiserver before component-base (1.12, 1.13)
    { repo: 'apiserver', path: 'pkg/apis/config/v1alpha1/types.go', pkg: 'k8s.io/apiserver/pkg/apis/config/v1alpha1' },
  ],
});
const apiserver = (path: string, pkg: string, apiVersion: string, from: number, to: number): Range => ({
  from,
  to,
  apiVersion,
  rootPkg: pkg,
  own: [{ repo: 'apiserver', path, pkg }],
});

if (import.meta.url === `file://${process.argv[1]}`) {
  const repos = process.argv[2];
  if (!repos) {
    process.stderr.write('usage: generate-control-plane-schemas.ts <dir with kube-scheduler/ apiserver/ component-base/ apimachinery/ git dirs>\n');
    process.exit(2);
  }
  const here = import.meta.dirname;
  const write = (name: string, s: ComponentSchemas): void => writeFileSync(join(here, `${name}.schemas.json`), `${JSON.stringify(s)}\n`);
  write('kube-scheduler', generateRanges(repos, 'kube-scheduler', 'KubeSchedulerConfiguration', [
    scheduler('v1alpha1', 12, 18),
    scheduler('v1beta1', 19, 21),
    scheduler('v1beta2', 22, 22),
    scheduler('v1beta3', 23, 24),
    scheduler('v1', 25, 36),
  ]));
  write('encryption-config', generateRanges(repos, 'encryption-config', 'EncryptionConfiguration', [
    apiserver('pkg/apis/config/v1/types.go', 'k8s.io/apiserver/pkg/apis/config/v1', 'apiserver.config.k8s.io/v1', 13, 29),
    apiserver('pkg/apis/apiserver/v1/types_encryption.go', 'k8s.io/apiserver/pkg/apis/apiserver/v1', 'apiserver.config.k8s.io/v1', 30, 36),
  ]));
  write('authentication-config', generateRanges(repos, 'authentication-config', 'AuthenticationConfiguration', [
    apiserver('pkg/apis/apiserver/v1beta1/types.go', 'k8s.io/apiserver/pkg/apis/apiserver/v1beta1', 'apiserver.config.k8s.io/v1beta1', 32, 33),
    apiserver('pkg/apis/apiserver/v1/types.go', 'k8s.io/apiserver/pkg/apis/apiserver/v1', 'apiserver.config.k8s.io/v1', 34, 36),
  ]));
}
