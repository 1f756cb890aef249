// The locks the running command holds, released by main() when the command ends however it ends.
// Kept free of imports so that main() stays light to load.
export interface HeldLock {
  release(): Promise<void>;
}

const held = new Set<HeldLock>();

export function holdUntilExit(lock: HeldLock): void {
  held.add(lock);
}

export async function releaseHeldLocks(): Promise<void> {
  const locks = [...held];
  held.clear();
  await Promise.all(locks.map((l) => l.release().catch(() => undefined)));
}
