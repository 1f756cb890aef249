// A worker host: its name and how to reach it. Providers report hosts; render, pki, phases and
// verify consume them. It sits beside the spec so that no layer needs providers/ to name a host.

export interface Host {
  /** node name; for DigitalOcean the droplet name (`k8s-worker-{index}.{domain}`) */
  name: string;
  /** where SSH connects; undefined until a provider has created the host */
  address: string | undefined;
  port: number;
  user: string;
  publicAddress?: string | undefined;
  privateAddress?: string | undefined;
}
