// Kubernetes (and component) versions as the spec writes them: "1.36", "1.36.2", "v1.8.0".

export interface KubeVersion {
  major: number;
  minor: number;
  /** undefined when only a minor was given; resolved later from stable-<minor>.txt */
  patch: number | undefined;
}

export function parseKubeVersion(text: string): KubeVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
}

export function formatKubeVersion(v: KubeVersion): string {
  return v.patch === undefined ? `${v.major}.${v.minor}` : `${v.major}.${v.minor}.${v.patch}`;
}

/** Compares minors only: negative if a < b. */
export function compareMinor(a: { major: number; minor: number }, b: { major: number; minor: number }): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}
