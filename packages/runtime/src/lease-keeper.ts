import { BACKGROUND_TIMER, type Clock, type MessageBus, type TimerHandle } from '@agentrix/core';

/** A delivery whose lease is kept while it waits or runs. */
export interface KeptLease {
  readonly inbox: string;
  readonly deliveryId: string;
  /** When its lease was last started or extended (ms since the epoch). */
  extendedAt: number;
}

/** A kept lease, linked into the keeper's list while kept. */
class Kept implements KeptLease {
  prev: Kept | undefined = undefined;
  next: Kept | undefined = undefined;
  kept = true;
  constructor(
    readonly inbox: string,
    readonly deliveryId: string,
    public extendedAt: number,
  ) {}
}

/**
 * Keeps the leases of the deliveries a manager's agents hold (waiting behind their thread's turn
 * or running), so a long turn is not handed to another reader: one background timer for them
 * all, every third of the bus's lease, extends each lease older than that. A delivery held
 * longer than a third of a lease is extended within two thirds of it, before it expires.
 * One timer per manager instead of one per delivery: a turn costs no timer of its own. The kept
 * leases are a linked list: a Set's add and delete of a lease per turn reallocated its table every
 * few turns (about 170 B a turn that outlived young collections, bench/runtime section 4).
 */
export class LeaseKeeper {
  #head: Kept | undefined = undefined;
  #tail: Kept | undefined = undefined;
  #timer: TimerHandle | undefined;
  #closed = false;
  /**
   * A clock reading no later than now, taken when the timer is armed and at each sweep: a delivery
   * read since then was leased after it, so it stands for the lease's start without a clock read
   * per delivery (53 ns, one an ask: bench/runtime section 4, sixth pass). The lease may then be
   * extended a sweep earlier than it needs, never later.
   */
  #stamp = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly bus: MessageBus,
    private readonly clock: Clock,
    private readonly consumer: string,
    private readonly onError: (error: unknown, lease: KeptLease) => void,
  ) {}

  #interval(): number {
    return Math.max(1, this.bus.leaseMs / 3);
  }

  /**
   * Keeps a delivery's lease from now on: one just read (its lease started after the keeper's last
   * clock reading), or, when `held`, one taken long ago and held since (extended at once).
   */
  keep(inbox: string, deliveryId: string, held = false): KeptLease {
    const lease = new Kept(inbox, deliveryId, Number.NEGATIVE_INFINITY);
    if (this.#tail === undefined) this.#head = lease;
    else {
      this.#tail.next = lease;
      lease.prev = this.#tail;
    }
    this.#tail = lease;
    this.#arm();
    if (held) void this.#extend([lease]);
    else lease.extendedAt = this.#stamp;
    return lease;
  }

  release(lease: KeptLease): void {
    const kept = lease as Kept;
    if (!kept.kept) return;
    kept.kept = false;
    if (kept.prev === undefined) this.#head = kept.next;
    else kept.prev.next = kept.next;
    if (kept.next === undefined) this.#tail = kept.prev;
    else kept.next.prev = kept.prev;
    kept.prev = kept.next = undefined;
  }

  close(): void {
    this.#closed = true;
    while (this.#head !== undefined) this.release(this.#head);
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed || this.#head === undefined) return;
    this.#stamp = this.clock.now();
    // A background timer: kept leases keep no process alive (their turns do).
    this.#timer = this.clock.setTimeout(() => this.#sweep(), this.#interval(), BACKGROUND_TIMER);
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#stamp = this.clock.now();
    const due = this.#stamp - this.#interval();
    const old: KeptLease[] = [];
    for (let lease = this.#head; lease !== undefined; lease = lease.next) if (lease.extendedAt <= due) old.push(lease);
    if (old.length > 0) void this.#extend(old);
    this.#arm();
  }

  async #extend(leases: KeptLease[]): Promise<void> {
    const byInbox = new Map<string, KeptLease[]>();
    for (const lease of leases) {
      const list = byInbox.get(lease.inbox);
      if (list === undefined) byInbox.set(lease.inbox, [lease]);
      else list.push(lease);
    }
    const now = this.clock.now();
    await Promise.all(
      [...byInbox].map(async ([inbox, list]) => {
        try {
          await this.bus.extendLease(
            inbox,
            list.map((lease) => lease.deliveryId),
            { consumer: this.consumer },
          );
          for (const lease of list) lease.extendedAt = now;
        } catch (error) {
          for (const lease of list) this.onError(error, lease);
        }
      }),
    );
  }
}
