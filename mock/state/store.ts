// Where state lives. `commit` is the only way to change it: events are appended to the
// journal (in memory here; durable with --data) and applied to the projections in order.
import type { SandboxEvent } from './events.ts';
import { applyEvent, createProjections, type Projections } from './projections.ts';

export type Journal = {
  append(events: SandboxEvent[]): Promise<void>;
  /** Empties the journal (control-surface reset). */
  truncate(): Promise<void>;
  close(): Promise<void>;
};

export type Store = {
  readonly state: Projections;
  commit(...events: SandboxEvent[]): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
  /** Events applied since start (or reset); for the control surface and tests. */
  readonly eventCount: number;
};

export function createStore(journal?: Journal, history: SandboxEvent[] = []): Store {
  let state = createProjections();
  let count = 0;
  for (const e of history) {
    applyEvent(state, e);
    count++;
  }
  return {
    get state() {
      return state;
    },
    get eventCount() {
      return count;
    },
    async commit(...events) {
      // Apply synchronously so concurrent requests see each other's writes in order; the
      // caller answers only after the journal has the events.
      for (const e of events) {
        applyEvent(state, e);
        count++;
      }
      if (journal && events.length) await journal.append(events);
    },
    async reset() {
      state = createProjections();
      count = 0;
      await journal?.truncate();
    },
    close: async () => journal?.close(),
  };
}
