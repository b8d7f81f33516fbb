// One shared tick for every timer on the page (the header clock, each card's queue and talk time): one timeout,
// aligned to the second boundary so displays never lag the wall clock by most of a second.

export const clock = $state({ now: Date.now() });

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
