import type { InboxEntry } from './inbox.js';

/** Above this many deliveries in flight, an inbox finds them through a Map instead of a scan. */
const SCANNED = 8;

/** The entries of every inbox with none in flight: an idle inbox allocates no array (bench/runtime section 3). */
const NONE: InboxEntry[] = [];

/**
 * The deliveries of one inbox that are in flight, in lease order (a re-lease deletes and sets
 * again), by delivery id. A few sit in an array (an agent holds one at a time), more in a Map: a
 * Map whose last entry is deleted reallocates its table (about 150 B and 0.2 µs), once per ack of
 * an agent's message (bench/runtime section 4).
 */
export class InFlight {
  #few: InboxEntry[] = NONE;
  #many: Map<string, InboxEntry> | undefined = undefined;

  get size(): number {
    return this.#many === undefined ? this.#few.length : this.#many.size;
  }

  get(deliveryId: string): InboxEntry | undefined {
    if (this.#many !== undefined) return this.#many.get(deliveryId);
    for (const entry of this.#few) if (entry.deliveryId === deliveryId) return entry;
    return undefined;
  }

  /** Adds an entry last in lease order (its id must not be in flight). */
  set(deliveryId: string, entry: InboxEntry): void {
    if (this.#many !== undefined) {
      this.#many.set(deliveryId, entry);
    } else if (this.#few.length < SCANNED) {
      if (this.#few === NONE) this.#few = [];
      this.#few.push(entry);
    } else {
      this.#many = new Map(this.#few.map((each) => [each.deliveryId, each]));
      this.#many.set(deliveryId, entry);
      this.#few = NONE;
    }
  }

  delete(deliveryId: string): boolean {
    const many = this.#many;
    if (many !== undefined) {
      if (many.size > 1) return many.delete(deliveryId);
      if (!many.has(deliveryId)) return false;
      this.#many = undefined;
      return true;
    }
    const few = this.#few;
    for (let index = 0; index < few.length; index++) {
      if (few[index]!.deliveryId !== deliveryId) continue;
      // shift() for the usual oldest one: splice returns an array of what it removed.
      if (index === 0) few.shift();
      else few.splice(index, 1);
      return true;
    }
    return false;
  }

  /** The entry whose lease ends first. */
  first(): InboxEntry | undefined {
    return this.#many === undefined ? this.#few[0] : this.#many.values().next().value;
  }

  /** In lease order. Not to be changed while going through them. */
  values(): Iterable<InboxEntry> {
    return this.#many === undefined ? this.#few : this.#many.values();
  }

  clear(): void {
    this.#few = NONE;
    this.#many = undefined;
  }
}
