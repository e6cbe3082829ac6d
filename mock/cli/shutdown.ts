// How `pacspace-sandbox` ends: SIGINT or SIGTERM stops the sandbox (listeners, open
// connections, timers, journal) and exits 0; a second signal while it stops exits at once
// (128 + its number), as does a stop that hangs.
//
// Run by npm (`npx`, `npm exec`, `npm start`), the process is the child of `sh -c`, and npm
// forwards a signal to that shell only, which dies of it without passing it on: the sandbox
// would be left running with its ports taken. So under npm it also stops once its parent is gone.
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export type ShutdownHost = {
  on(event: (typeof SIGNALS)[number], listener: (signal: NodeJS.Signals) => void): unknown;
  readonly ppid: number;
  readonly env: NodeJS.ProcessEnv;
  exit(code: number): void;
  readonly stderr: { write(text: string): unknown };
};

export type ShutdownTiming = {
  /**
   * A repeat of the first signal within this window is the same request delivered twice, not
   * an impatient second one: a terminal's Ctrl-C reaches the whole process group, and npm
   * forwards it to its child as well (where the shell execs the command, the child is us).
   */
  duplicateWithinMs: number;
  /** A stop that takes longer than this is given up on. */
  stopTimeoutMs: number;
  /** How often to check that npm's shell is still the parent. */
  parentCheckMs: number;
};

const TIMING: ShutdownTiming = { duplicateWithinMs: 200, stopTimeoutMs: 5_000, parentCheckMs: 200 };

/** Wires the signals (and, under npm, the parent) to `stop`; `stopping` says whether it began. */
export function stopOnSignals(stop: () => Promise<void>, host: ShutdownHost = process, timing: ShutdownTiming = TIMING): { readonly stopping: boolean } {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];

  const exit = (code: number, message?: string) => {
    for (const timer of timers) clearTimeout(timer);
    if (message) host.stderr.write(`pacspace-sandbox: ${message}\n`);
    host.exit(code);
  };

  const begin = () => {
    if (stopping) return;
    stopping = true;
    timers.push(setTimeout(() => exit(1, `still stopping after ${timing.stopTimeoutMs / 1000} s; exiting`), timing.stopTimeoutMs).unref());
    stop().then(
      () => exit(0),
      (error: unknown) => exit(1, `could not stop cleanly: ${(error as Error)?.message ?? String(error)}`),
    );
  };

  for (const name of SIGNALS) {
    host.on(name, (signal) => {
      const now = performance.now();
      if (!first) {
        first = { signal, at: now };
        begin();
      } else if (!(signal === first.signal && now - first.at < timing.duplicateWithinMs)) {
        exit(128 + constants.signals[signal]);
      }
    });
  }

  if (host.env.npm_lifecycle_event !== undefined) {
    const parent = host.ppid;
    // An orphan is adopted by init or a subreaper: the parent id changes.
    const check = setInterval(() => {
      if (host.ppid !== parent) begin();
    }, timing.parentCheckMs).unref();
    timers.push(check);
  }

  return {
    get stopping() {
      return stopping;
    },
  };
}
