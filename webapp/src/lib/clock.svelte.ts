// One shared tick for every timer on the page (the header clock, each card's queue and talk time): one timeout,
// aligned to the second boundary so displays never lag the wall clock by most of a second.

export const clock = $state({ now: Date.now() });

// How far the server's clock is ahead of this browser's (the live stream's hello says the server's time). A phone
// whose clock is slow would otherwise show every fresh ticket as "0 dtk" and every older one too young.
let serverAheadMs = 0;

export function syncServerClock(serverTime: string): void {
  const server = Date.parse(serverTime);
  if (!Number.isNaN(server)) {
    serverAheadMs = server - Date.now();
  }
}

/** The server's time at the browser's `now` (ms): for ages of what the server timestamped. */
export function serverNow(now: number): number {
  return now + serverAheadMs;
}

let users = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function tick(): void {
  clock.now = Date.now();
  timer = setTimeout(tick, 1000 - (clock.now % 1000));
}

/** Start ticking (counted: the last stop ends it); returns the stop. */
export function useClock(): () => void {
  users += 1;
  if (users === 1) {
    tick();
  }
  let stopped = false;
  return () => {
    if (stopped) {
      return;
    }
    stopped = true;
    users -= 1;
    if (users === 0) {
      clearTimeout(timer);
    }
  };
}
