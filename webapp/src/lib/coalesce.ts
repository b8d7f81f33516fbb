// A re-read that frames may ask for in bursts (the live stream): never two at once, and asks that come while one
// runs cause exactly one more run after it, so the last change is always read.

/** One such re-read per key (a card's call): keys run independently of each other. */
export function coalescedByKey<K>(run: (key: K) => Promise<void>): (key: K) => Promise<void> {
  // The keys being run; true when asked again meanwhile.
  const again = new Map<K, boolean>();
  return async (key: K) => {
    if (again.has(key)) {
      again.set(key, true);
      return;
    }
    try {
      do {
        again.set(key, false);
        await run(key);
      } while (again.get(key) === true);
    } finally {
      again.delete(key);
    }
  };
}

export function coalesced(run: () => Promise<void>): () => Promise<void> {
  const byKey = coalescedByKey<null>(run);
  return () => byKey(null);
}
