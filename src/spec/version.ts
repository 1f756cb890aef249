// Kubernetes (and component) versions as the spec writes them: "1.36", "1.36.2", "v1.8.0", and
// pre-releases of an exact patch, "1.30.0-rc.1" (dl.k8s.io publishes them under release/v1.30.0-rc.1/).

export interface KubeVersion {
  major: number;
  minor: number;
  /** undefined when only a minor was given; resolved later from stable-<minor>.txt */
  patch: number | undefined;
  /** a pre-release of `patch`, e.g. "rc.1" (Kubernetes tags: alpha.N, beta.N, rc.N); only with a patch */
  pre?: string;
}

// Kubernetes release tags are v<major>.<minor>.<patch>[-(alpha|beta|rc).<n>] (kubernetes/release,
// pkg/release). A pre-release without a patch ("1.30-rc.1") names no release: it does not parse.
const KUBE_VERSION = /^v?(\d+)\.(\d+)(?:\.(\d+)(?:-((?:alpha|beta|rc)\.\d+))?)?$/;

export function parseKubeVersion(text: string): KubeVersion | undefined {
  const m = KUBE_VERSION.exec(text.trim());
  if (!m) return undefined;
  const v: KubeVersion = { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
  if (m[4] !== undefined) v.pre = m[4];
  return v;
}

export function formatKubeVersion(v: KubeVersion): string {
  if (v.patch === undefined) return `${v.major}.${v.minor}`;
  return `${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}`;
}

/** Compares minors only: negative if a < b. */
export function compareMinor(a: { major: number; minor: number }, b: { major: number; minor: number }): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}
