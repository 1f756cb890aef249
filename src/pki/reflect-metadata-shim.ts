// @peculiar/x509 loads tsyringe, which refuses to load unless a Reflect metadata polyfill
// (the `reflect-metadata` package, not installed here) is present. This installs the few
// functions tsyringe calls (getMetadata, getOwnMetadata, defineMetadata), only when missing.
type Key = unknown;
type Target = object;

interface ReflectMetadata {
  getMetadata?(key: Key, target: Target): unknown;
  getOwnMetadata?(key: Key, target: Target): unknown;
  defineMetadata?(key: Key, value: unknown, target: Target): void;
  hasMetadata?(key: Key, target: Target): boolean;
}

const store = new WeakMap<Target, Map<Key, unknown>>();
const r = Reflect as unknown as ReflectMetadata;

if (typeof r.getMetadata !== 'function') {
  r.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  r.getMetadata = (key, target) => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const m = store.get(t);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  r.hasMetadata = (key, target) => r.getMetadata?.(key, target) !== undefined;
  r.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (!m) store.set(target, (m = new Map()));
    m.set(key, value);
  };
}

export {};
