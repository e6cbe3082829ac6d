// Turns for large request bodies. Parsing and validating a 1 MiB JSON body is 100 ms or more of
// synchronous work that no other request can interleave with; four clients sending such bodies
// back to back would hold the event loop for seconds while another client's derive waits. So
// requests whose body is over LARGE_BODY_BYTES take turns: one at a time, in arrival order,
// each starting in a fresh event-loop turn (a setImmediate, so the I/O already waiting — other
// clients' requests — is served first). Smaller requests never wait.

/** Bodies over this many bytes take turns (the largest valid body of the contract is far smaller). */
export const LARGE_BODY_BYTES = 64 * 1024;

/** `take()` resolves, in a fresh event-loop turn, once it is this caller's turn; call the release it returns when done. */
export function createTurns() {
  let busy = false;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else busy = false;
  };
  return {
    async take(): Promise<() => void> {
      if (busy) await new Promise<void>((resolve) => waiting.push(resolve));
      else busy = true;
      await new Promise((resolve) => setImmediate(resolve));
      let released = false;
      return () => {
        if (!released) release();
        released = true;
      };
    },
    /** Requests waiting for their turn (tests). */
    waiting: () => waiting.length,
  };
}
