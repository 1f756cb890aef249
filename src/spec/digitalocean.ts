// DigitalOcean facts the spec, the renderers (etcd-lookup on nodes) and the provider share.

/** The public API base URL (no /v2); DIGITALOCEAN_API_URL or --api-url override it. */
export const DIGITALOCEAN_API_URL_DEFAULT = 'https://api.digitalocean.com';

/** DigitalOcean's tag name pattern (OpenAPI `tags` schema). */
export const DIGITALOCEAN_TAG_PATTERN = /^[a-zA-Z0-9_\-:]{1,255}$/;
export const DIGITALOCEAN_TAG_RULE = 'must match ^[a-zA-Z0-9_-:]+$ (DigitalOcean tag names)';
