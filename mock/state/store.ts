// Where state lives. `commit` is the only way to change it: events are appended to the
// journal (in memory here; durable with --data) and applied to the projections in order.
//
// Events are applied at once, so concurrent requests decide on each other's writes in order
// (200 parallel deltas get 200 sequences), and a commit resolves only once the journal has
// them on disk. When the journal fails to write them, it undoes the write and hands back the
// state its records build, which replaces the projections: the failed commits — and those
// applied after them, which may have decided on them — are rolled back and reject with
// StorageUnavailableError; while the journal recovers (and a moment after), commits are
// refused before anything is applied. A reset is one such step too: the new state's events
// replace the whole journal at once, or the reset fails and nothing changed.
import type { SandboxEvent } from './events.ts';
import type { Replayed } from './journal.ts';
import { applyEvent, createProjections, type Projections } from './projections.ts';
import type { StorageUnavailableError } from './storage.ts';

export type Journal = {
  /** Why no commit can be taken now (a write failed moments ago, or is being undone); else undefined. */
  refusal(): StorageUnavailableError | undefined;
  /** Resolves once the events are on disk; rejects with StorageUnavailableError if they cannot be. */
  append(events: SandboxEvent[]): Promise<void>;
  /**
   * Replaces the whole journal by `events` in one step (control-surface reset), in order with
   * the appends: resolves once the new journal is on disk; rejects with StorageUnavailableError,
   * the journal unchanged, if it cannot be.
   */
  replace(events: SandboxEvent[]): Promise<void>;
  /** `listener` gets the state of the journal as it is on disk after a failed write was undone. */
  onRollback(listener: (replayed: Replayed) => void): void;
  close(): Promise<void>;
};

export type Store = {
  readonly state: Projections;
  commit(...events: SandboxEvent[]): Promise<void>;
  /**
   * Undefined when everything applied so far is durable; otherwise a promise that settles
   * when it is (or rejects, when it was rolled back). A response that only read state waits
   * for it, so nothing that is later undone is ever shown.
   */
  settled(): Promise<void> | undefined;
  /**
   * Starts again from an empty state with `events` (the re-seeded demo account) applied, in
   * one durable step: resolves once the journal holds exactly them; rejects with
   * StorageUnavailableError, and everything as it was, when they cannot be written.
   */
  reset(events?: SandboxEvent[]): Promise<void>;
  close(): Promise<void>;
  /** Events applied since start (or reset); for the control surface and tests. */
  readonly eventCount: number;
};

export function createStore(journal?: Journal, replayed?: Replayed): Store {
  let state = replayed?.state ?? createProjections();
  let count = replayed?.count ?? 0;
  /** The journal promise of the latest commit not yet durable. */
  let latest: Promise<void> | undefined;

  journal?.onRollback((durable) => {
    state = durable.state;
    count = durable.count;
  });

  function track(pending: Promise<void>): Promise<void> {
    latest = pending;
    const settle = () => {
      if (latest === pending) latest = undefined;
    };
    pending.then(settle, settle);
    return pending;
  }

  return {
    get state() {
      return state;
    },
    get eventCount() {
      return count;
    },
    async commit(...events) {
      if (events.length === 0) return;
      if (!journal) {
        for (const e of events) applyEvent(state, e);
        count += events.length;
        return;
      }
      const refused = journal.refusal();
      if (refused) throw refused;
      // Queued before it is applied (an event that cannot be encoded is never applied), and
      // applied synchronously so the next request decides on it; answered once durable.
      const durable = track(journal.append(events));
      for (const e of events) applyEvent(state, e);
      count += events.length;
      await durable;
    },
    settled: () => latest,
    async reset(events = []) {
      const refused = journal?.refusal();
      if (refused) throw refused;
      // Queued (and encoded) before anything is applied, as a commit is; a failed write hands
      // back the journal's state as it was (onRollback above).
      const durable = journal ? track(journal.replace(events)) : undefined;
      state = createProjections();
      for (const e of events) applyEvent(state, e);
      count = events.length;
      await durable;
    },
    close: async () => journal?.close(),
  };
}
