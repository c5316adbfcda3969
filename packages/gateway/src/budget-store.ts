import {
  AgentrixError,
  type BudgetCounter,
  type BudgetReservation,
  type BudgetReserveResult,
  type BudgetSettlement,
  type BudgetSettleResult,
  type BudgetStore,
  type ReleasedReservation,
} from '@agentrix/core';

interface Counter {
  spent: number;
  reserved: number;
  expiresAt: number | undefined;
}

/** The default backend: counters and reservations in Maps. One process only. */
export class InMemoryBudgetStore implements BudgetStore {
  readonly #counters = new Map<string, Counter>();
  readonly #reservations = new Map<string, ReleasedReservation>();
  readonly #now: () => number;

  /** `now` drops expired counters lazily. Default `Date.now`. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async reserve(reservation: BudgetReservation): Promise<BudgetReserveResult> {
    const { id, lines } = reservation;
    if (this.#reservations.has(id)) throw duplicateReservation(id);
    for (const line of lines) {
      const counter = this.#get(line.key);
      if (counter.spent + counter.reserved + line.amount > line.limit) {
        return {
          ok: false,
          key: line.key,
          counter: { key: line.key, spent: counter.spent, reserved: counter.reserved },
        };
      }
    }
    const counters: BudgetCounter[] = [];
    for (const line of lines) {
      const counter = this.#upsert(line.key, line.expiresAt);
      counter.reserved += line.amount;
      counters.push({ key: line.key, spent: counter.spent, reserved: counter.reserved });
    }
    if (lines.length > 0) {
      this.#reservations.set(id, {
        id,
        holder: reservation.holder,
        expiresAt: reservation.expiresAt,
        lines: lines.map((line) => ({ key: line.key, amount: line.amount })),
      });
    }
    return { ok: true, counters };
  }

  async settle(settlement: BudgetSettlement): Promise<BudgetSettleResult> {
    const held = this.#release(settlement.id) !== undefined;
    for (const line of settlement.lines) {
      if (line.actual === 0) continue;
      this.#upsert(line.key, line.expiresAt).spent += line.actual;
    }
    return { held };
  }

  async read(keys: readonly string[]): Promise<BudgetCounter[]> {
    return keys.map((key) => {
      const counter = this.#get(key);
      return { key, spent: counter.spent, reserved: counter.reserved };
    });
  }

  async releaseExpired(now: number): Promise<ReleasedReservation[]> {
    return this.#releaseWhere((reservation) => reservation.expiresAt <= now);
  }

  async releaseHolder(holder: string): Promise<ReleasedReservation[]> {
    return this.#releaseWhere((reservation) => reservation.holder === holder);
  }

  async close(): Promise<void> {}

  #releaseWhere(test: (reservation: ReleasedReservation) => boolean): ReleasedReservation[] {
    const released: ReleasedReservation[] = [];
    for (const reservation of [...this.#reservations.values()]) {
      if (test(reservation)) released.push(this.#release(reservation.id)!);
    }
    return released;
  }

  /** Ends a reservation: gives back what it holds. Undefined when it was not held. */
  #release(id: string): ReleasedReservation | undefined {
    const reservation = this.#reservations.get(id);
    if (!reservation) return undefined;
    this.#reservations.delete(id);
    for (const line of reservation.lines) {
      const counter = this.#counters.get(line.key);
      if (counter) counter.reserved = Math.max(0, counter.reserved - line.amount);
    }
    return reservation;
  }

  #upsert(key: string, expiresAt: number | undefined): Counter {
    let counter = this.#live(key);
    if (!counter) {
      counter = { spent: 0, reserved: 0, expiresAt };
      this.#counters.set(key, counter);
    }
    return counter;
  }

  #get(key: string): { spent: number; reserved: number } {
    return this.#live(key) ?? ZERO;
  }

  /** The counter of `key`, dropping it when it has expired. */
  #live(key: string): Counter | undefined {
    const counter = this.#counters.get(key);
    if (counter?.expiresAt !== undefined && counter.expiresAt <= this.#now()) {
      this.#counters.delete(key);
      return undefined;
    }
    return counter;
  }
}

const ZERO = Object.freeze({ spent: 0, reserved: 0 });

/** The error every store gives for a reservation id that is already held. */
export function duplicateReservation(id: string): AgentrixError {
  return new AgentrixError(
    'INVALID_ARGUMENT',
    `Budget reservation "${id}" is already held: give each reservation a new id`,
  );
}
