// Runs work at instants of the sandbox clock: confirmations, environments becoming active,
// webhook retries. One timer, armed for the earliest job; moving the clock (control surface)
// runs whatever became due at once. Jobs never block the request that scheduled them.
import type { Clock } from './state/clock.ts';

type Job = { at: number; run: () => void | Promise<void> };

export function createScheduler(clock: Clock, onError: (error: unknown) => void = () => {}) {
  let jobs: Job[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function arm() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || jobs.length === 0) return;
    const next = Math.min(...jobs.map((j) => j.at));
    timer = setTimeout(runDue, Math.max(0, Math.min(next - clock.now(), 2 ** 31 - 1)));
    timer.unref();
  }

  function runDue() {
    const now = clock.now();
    const due = jobs.filter((j) => j.at <= now).sort((a, b) => a.at - b.at);
    jobs = jobs.filter((j) => j.at > now);
    for (const job of due) {
      try {
        Promise.resolve(job.run()).catch(onError);
      } catch (error) {
        onError(error);
      }
    }
    arm();
  }

  return {
    at(at: number, run: Job['run']) {
      jobs.push({ at, run });
      if (at <= clock.now()) queueMicrotask(runDue);
      else arm();
    },
    /** Call after the clock moved. */
    poke: () => runDue(),
    clear() {
      jobs = [];
      arm();
    },
    stop() {
      stopped = true;
      jobs = [];
      if (timer) clearTimeout(timer);
    },
    pending: () => jobs.length,
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
