// The last value seen in each slot, answered in place of an equal new one. Under load the
// inspector holds the newest N exchanges, and most of their values repeat (a client's headers,
// a polled answer): held once, the repeats die young and the garbage collector copies one value
// where it would copy N. Equal values only: what is answered is indistinguishable from what was
// given.

/** Slots are cheap to name (a header name is one), so their number is bounded. */
const MAX_SLOTS = 128;

export class LastValues<V> {
  readonly #slots = new Map<string, V>();

  /** `equal` decides for values that are not `===` (strings are compared by content already). */
  constructor(private readonly equal?: (held: V, given: V) => boolean) {}

  /** The value held in `slot` when it equals `value`; otherwise `value`, now held there. */
  share(slot: string, value: V): V {
    const held = this.#slots.get(slot);
    if (held !== undefined && (held === value || (this.equal !== undefined && this.equal(held, value)))) return held;
    if (this.#slots.size >= MAX_SLOTS && !this.#slots.has(slot)) this.#slots.clear();
    this.#slots.set(slot, value);
    return value;
  }

  /** What `slot` holds, if anything. */
  held(slot: string): V | undefined {
    return this.#slots.get(slot);
  }

  /** Holds nothing any more. */
  clear(): void {
    this.#slots.clear();
  }
}
