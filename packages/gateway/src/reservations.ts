import type { BudgetReserveLine, BudgetReserveResult, BudgetSettleLine } from '@agentrix/core';
import { BACKGROUND_TIMER, type ReleasedReservation, serializeError, type TimerHandle } from '@agentrix/core';
import type { GatewayContext } from './call.js';

/** A reservation this gateway holds for a call: its id in the store and its lines. */
export interface Hold<L extends BudgetReserveLine = BudgetReserveLine> {
  id: string;
  lines: L[];
}

/**
 * Reserves `lines` for a call under a new reservation id (`<holder>:<callId>:<n>`) that expires
 * `reservations.ttlMs` from now. Waits, the first time, for the release of what a previous run of
 * this holder left, so that release can never take a reservation of this run.
 */
export async function reserve<L extends BudgetReserveLine>(
  context: GatewayContext,
  callId: string,
  lines: L[],
): Promise<{ hold: Hold<L>; result: BudgetReserveResult }> {
  const settings = context.reservations;
  await settings.ready;
  const id = `${settings.holder}:${callId}:${++settings.sequence}`;
  const result = await context.budgetStore.reserve({
    id,
    holder: settings.holder,
    expiresAt: context.clock.now() + settings.ttlMs,
    lines,
  });
  return { hold: { id, lines }, result };
}

/**
 * Ends a hold with what was spent (no lines: a release). Never throws: the call's outcome stands,
 * and a store failure is logged (the reservation then expires and a sweep gives it back).
 */
export async function settle(
  context: GatewayContext,
  callId: string,
  hold: Hold,
  lines: readonly BudgetSettleLine[],
): Promise<void> {
  try {
    const { held } = await context.budgetStore.settle({ id: hold.id, lines });
    if (!held) {
      context.logger?.warn(
        { callId, reservationId: hold.id },
        'gateway: a budget reservation expired before its call ended; the spend is counted, but the cap did not hold it meanwhile (raise reservations.ttlMs above your longest call)',
      );
    }
  } catch (error) {
    context.logger?.error(
      { callId, reservationId: hold.id, error: serializeError(error) },
      'gateway: could not settle a budget reservation',
    );
  }
}

/**
 * Gives back what dead holders left: at start, every reservation of this gateway's own holder id
 * (a previous run of this host, killed before it settled) and every expired one; then expired
 * ones every `sweepIntervalMs` on a background timer. Returns `stop` for `close()`: it resolves
 * once a sweep in flight is done, so none runs on a store the host closes next.
 */
export function startReservationKeeper(context: GatewayContext, sweepIntervalMs: number): { stop(): Promise<void> } {
  const { budgetStore: store, clock, reservations } = context;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = async () => {
    try {
      report(context, await store.releaseExpired(clock.now()), 'expired');
    } catch (error) {
      context.logger?.error({ error: serializeError(error) }, 'gateway: could not release expired budget reservations');
    }
  };
  const arm = () => {
    if (stopped || sweepIntervalMs === 0) return;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        sweeping = sweep().then(arm);
      },
      sweepIntervalMs,
      BACKGROUND_TIMER,
    );
  };
  reservations.ready = (async () => {
    try {
      report(context, await store.releaseHolder(reservations.holder), 'holder-restarted');
    } catch (error) {
      context.logger?.error(
        { holder: reservations.holder, error: serializeError(error) },
        'gateway: could not release the budget reservations of a previous run of this holder',
      );
    }
    await sweep();
    arm();
  })();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      return sweeping;
    },
  };
}

function report(
  context: GatewayContext,
  released: ReleasedReservation[],
  reason: 'expired' | 'holder-restarted',
): void {
  for (const reservation of released) {
    context.logger?.warn(
      {
        reservationId: reservation.id,
        holder: reservation.holder,
        expiresAt: reservation.expiresAt,
        reason,
        keys: reservation.lines.map((line) => line.key),
      },
      reason === 'expired'
        ? 'gateway: released an expired budget reservation (its holder never settled it)'
        : 'gateway: released a budget reservation left by a previous run of this holder',
    );
    if (context.events.has('budget.reclaimed')) {
      context.events.emit('budget.reclaimed', {
        reservationId: reservation.id,
        holder: reservation.holder,
        reason,
        expiresAt: reservation.expiresAt,
        lines: reservation.lines,
      });
    }
  }
}
