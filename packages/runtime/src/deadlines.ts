import type { Clock, TimerHandle } from '@agentrix/core';

const settled = Promise.resolve();

/** A deadline waiting in {@link Deadlines}; pass it to `cancel` once its work settled. */
export interface Deadline {
  readonly at: number;
}

class Entry implements Deadline {
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;
  constructor(
    readonly at: number,
    public onExpire: (() => void) | undefined,
    readonly list: Lane,
  ) {}
}

/** The deadlines of one duration: added in time order, so the head is always the first due. */
class Lane {
  constructor(readonly ms: number) {}
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
}

/**
 * The deadlines of a manager's asks and turns on one clock timer, armed for the earliest one.
 * A `setTimeout` per ask and per turn cost about 1.3 µs of a 17 µs ask on one agent (Node makes
 * and drops a timer list each time: 7.6% of the CPU profile, bench/runtime section 4); here an
 * ask or a turn costs a small object, and the timer is set again only when the earliest deadline
 * changes or the queue empties. Deadlines of one duration are kept in a list in the order they are due (like
 * Node's own timer lists), so adding and cancelling cost O(1).
 *
 * The timer is an ordinary one: something awaits each deadline, so it keeps the process alive,
 * and it is cleared as soon as no deadline is left.
 */
export class Deadlines {
  readonly #clock: Clock;
  readonly #lanes = new Map<number, Lane>();
  #size = 0;
  #timer: TimerHandle | undefined;
  /** When the timer fires (Infinity: no timer). */
  #armedAt = Number.POSITIVE_INFINITY;
  /** A check that clears the timer if no deadline came back is queued (see `cancel`). */
  #idleCheck = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many deadlines wait. */
  get size(): number {
    return this.#size;
  }

  /**
   * Calls `onExpire` in `ms` unless the deadline is cancelled first. `now`: the clock read a
   * moment ago by a caller that needs it too (a turn's start), so the turn reads it once.
   */
  add(ms: number, onExpire: () => void, now = this.#clock.now()): Deadline {
    const at = now + ms;
    let lane = this.#lanes.get(ms);
    if (lane === undefined) {
      lane = new Lane(ms);
      this.#lanes.set(ms, lane);
    }
    const entry = new Entry(at, onExpire, lane);
    if (lane.tail === undefined) lane.head = entry;
    else {
      lane.tail.next = entry;
      entry.prev = lane.tail;
    }
    lane.tail = entry;
    this.#size++;
    if (at < this.#armedAt) this.#arm(at);
    return entry;
  }

  /** Drops a deadline that is no longer needed (again, or after it expired: nothing happens). */
  cancel(deadline: Deadline): void {
    const entry = deadline as Entry;
    if (entry.onExpire === undefined) return;
    entry.onExpire = undefined;
    this.#unlink(entry);
    if (entry.list.head === undefined) this.#lanes.delete(entry.list.ms);
    // Left armed for a deadline that is gone, the timer fires early and re-arms. When none is left,
    // it is cleared once the microtasks queued so far have run: one ask at a time empties the
    // queue at each turn's end, and the next ask (its asker's await resumes in those microtasks)
    // would set a new timer each time (a setTimeout, a clearTimeout and a clock read an ask:
    // bench/runtime section 4, sixth pass). Before the event loop goes on, so it keeps no process alive.
    if (this.#size === 0 && !this.#idleCheck) {
      this.#idleCheck = true;
      // A settled promise's `then`: Node's queueMicrotask wraps each callback for async hooks (2% of an ask).
      settled.then(this.#clearIfIdle);
    }
  }

  readonly #clearIfIdle = (): void => {
    this.#idleCheck = false;
    if (this.#size === 0) this.#disarm();
  };

  #unlink(entry: Entry): void {
    const lane = entry.list;
    if (entry.prev === undefined) lane.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) lane.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    this.#size--;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const expired: (() => void)[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const lane of this.#lanes.values()) {
      for (let entry = lane.head; entry !== undefined && entry.at <= now; entry = lane.head) {
        expired.push(entry.onExpire!);
        entry.onExpire = undefined;
        this.#unlink(entry);
      }
      if (lane.head === undefined) this.#lanes.delete(lane.ms);
      else if (lane.head.at < next) next = lane.head.at;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const onExpire of expired) {
      try {
        onExpire();
      } catch (error) {
        // As a timer of its own would: the error is uncaught, and the other deadlines still fire.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
