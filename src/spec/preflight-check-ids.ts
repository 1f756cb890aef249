// The names of the preflight checks (src/phases/preflight.ts judges them), here so the spec's
// `preflight.ignoreErrors` can be validated where the spec is.
export const preflightCheckIds = ['arch', 'os', 'systemd', 'disk', 'swap', 'kernel-modules', 'ip-forward', 'port-10250', 'time-sync', 'cgroup', 'cloud-init'] as const;
export type PreflightCheckId = (typeof preflightCheckIds)[number];
