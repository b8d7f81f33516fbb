// A re-read that frames may ask for in bursts (the live stream): never two at once, and asks that come while one
// runs cause exactly one more run after it, so the last change is always read.

export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      running = false;
    }
  };
}
