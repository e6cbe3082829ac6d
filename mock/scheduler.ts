// Runs work at instants of the sandbox clock: confirmations, environments becoming active,
// webhook retries. One timer, armed for the earliest job; moving the clock (control surface)
// runs whatever became due at once. Jobs never block the request that scheduled them.
//
// Every recorded delta schedules its confirmation, so jobs are kept in a binary min-heap
// (by instant, then by scheduling order): scheduling and running a job are O(log n), and
// the timer is re-armed only when a job earlier than the armed one arrives.
import type { Clock } from './state/clock.ts';
import { StorageUnavailableError } from './state/storage.ts';

type Job = { at: number; seq: number; run: () => void | Promise<void> };

const before = (a: Job, b: Job) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

function push(heap: Job[], job: Job) {
  heap.push(job);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function pop(heap: Job[]): Job | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || !last) return top;
  heap[0] = last;
  for (let i = 0; ; ) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
    if (m === i) break;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
  return top;
}

export function createScheduler(clock: Clock, onError: (error: unknown) => void = () => {}) {
  let jobs: Job[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  /** The instant the timer is armed for. */
  let armedAt = Number.POSITIVE_INFINITY;
  let stopped = false;
  /** Bumped by clear(): a job waiting to run again after a storage failure is dropped with the rest. */
  let generation = 0;

  function disarm() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    armedAt = Number.POSITIVE_INFINITY;
  }

  function arm() {
    disarm();
    const next = jobs[0];
    if (stopped || !next) return;
    armedAt = next.at;
    timer = setTimeout(runDue, Math.max(0, Math.min(next.at - clock.now(), 2 ** 31 - 1)));
    timer.unref();
  }

  function runDue() {
    const now = clock.now();
    const due: Job[] = [];
    while (jobs.length && jobs[0]!.at <= now) due.push(pop(jobs)!);
    for (const job of due) run(job);
    arm();
  }

  function run(job: Job) {
    const failed = (error: unknown) => {
      if (!(error instanceof StorageUnavailableError)) return onError(error);
      // Its events could not be written, so nothing changed: run it again once the journal may take them.
      const current = generation;
      setTimeout(() => {
        if (!stopped && generation === current) run(job);
      }, error.retryAfterMs).unref();
    };
    try {
      Promise.resolve(job.run()).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  return {
    at(at: number, run: Job['run']) {
      if (stopped) return;
      push(jobs, { at, seq: seq++, run });
      if (at <= clock.now()) queueMicrotask(runDue);
      else if (at < armedAt) arm();
    },
    /** Call after the clock moved. */
    poke: () => runDue(),
    clear() {
      jobs = [];
      generation++;
      arm();
    },
    stop() {
      stopped = true;
      jobs = [];
      disarm();
    },
    pending: () => jobs.length,
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
