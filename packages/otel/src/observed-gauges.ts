import type { MessageBus } from '@agentrix/core';
import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';
import { ATTR, METRIC } from './semantic.js';

/** What the gauges read at each collection; every field optional. */
export interface GaugeSources {
  /** Queue depth and dead letters of each inbox `inboxes()` names (an agent's id is its inbox). */
  bus?: Pick<MessageBus, 'stats'>;
  inboxes?: () => readonly string[];
  /** The turn pool: turns running and agents waiting for a slot. */
  pool?: { readonly active: number; readonly waiting: number };
  /** Budgets and what remains of them (the gateway's `budgetStatus()`). */
  budgets?: () => Promise<readonly { budget: string; unit: string; remaining: number }[]>;
}

/** Inboxes read per collection: the stats of 1,000 inboxes are one collection's worth of round trips. */
const MAX_INBOXES = 1_000;
/** A collection waits this long for the bus and the budget store, then reports what it has. */
const COLLECT_TIMEOUT_MS = 2_000;

/**
 * Gauges read when the host's metric reader collects (nothing runs between collections): queue
 * depth (unread, in flight) and dead letters per inbox, pool slots in use and waiters, budget
 * remaining. A bus or budget store that fails or is slow costs that collection its values, never
 * an error. Returns the function that stops observing.
 */
export function observeGauges(meter: Meter, sources: GaugeSources): () => void {
  const depth = meter.createObservableGauge(METRIC.queueDepth, {
    unit: '{message}',
    description: 'Messages waiting (unread) and being handled (in_flight) per inbox',
  });
  const deadLetters = meter.createObservableGauge(METRIC.queueDeadLetters, {
    unit: '{message}',
    description: 'Messages in dead letter per inbox',
  });
  const waiters = meter.createObservableGauge(METRIC.poolWaiters, {
    unit: '{agent}',
    description: 'Agents waiting for a turn slot',
  });
  const active = meter.createObservableGauge(METRIC.poolActive, { unit: '{turn}', description: 'Turn slots in use' });
  const remaining = meter.createObservableGauge(METRIC.budgetRemaining, {
    description: 'What remains of each budget in its period (USD or tokens, by agentrix.budget.unit)',
  });
  const observables: Observable[] = [depth, deadLetters, waiters, active, remaining];
  const callback: BatchObservableCallback = async (result) => {
    const { pool, bus, inboxes, budgets } = sources;
    if (pool) {
      result.observe(waiters, pool.waiting);
      result.observe(active, pool.active);
    }
    const work: Promise<unknown>[] = [];
    if (bus && inboxes) {
      for (const inbox of inboxes().slice(0, MAX_INBOXES)) {
        work.push(
          bus.stats(inbox).then((stats) => {
            const at = { [ATTR.destination]: inbox };
            result.observe(depth, stats.unread, { ...at, [ATTR.queueState]: 'unread' });
            result.observe(depth, stats.inFlight, { ...at, [ATTR.queueState]: 'in_flight' });
            result.observe(deadLetters, stats.deadLetters, at);
          }),
        );
      }
    }
    if (budgets) {
      work.push(
        budgets().then((lines) => {
          for (const line of lines) {
            result.observe(remaining, line.remaining, { [ATTR.budget]: line.budget, [ATTR.budgetUnit]: line.unit });
          }
        }),
      );
    }
    if (work.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    // Ref'd: a collection (an export on shutdown, say) awaits this wait, so it keeps the process
    // alive until the bus and budgets answer or the deadline passes; it is cleared either way.
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, COLLECT_TIMEOUT_MS);
    });
    await Promise.race([Promise.allSettled(work), deadline]);
    clearTimeout(timer);
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
