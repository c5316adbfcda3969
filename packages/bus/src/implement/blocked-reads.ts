import { AgentrixError, type Clock, type Delivery } from '@agentrix/core';
import { armBlockedRead, type BlockedRead, settleBlockedRead } from '@agentrix/core/implement';

/** A blocked `read` of one inbox, the same shape in every bus: kept small, thousands of idle agents each hold one. */
export interface InboxWaiter<Box> extends BlockedRead {
  readonly consumer: string;
  readonly max: number;
  /** The bus's record of the inbox the read waits on. */
  readonly box: Box;
  /** False once it left its inbox (settled, timed out, aborted, closed): what a read in flight took for it goes back. */
  active: boolean;
}

/** What a blocked read asks for. */
export interface WaitRequest {
  readonly consumer: string;
  readonly max: number;
  readonly blockMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * Queues a blocked read on `box` (last in line) and arms its `blockMs` timer and its signal:
 * `leave` (one function per bus) takes it out of its inbox when either fires.
 */
export function addWaiter<Box>(
  box: Box,
  waiters: Array<InboxWaiter<Box>>,
  request: WaitRequest,
  clock: Clock,
  leave: (waiter: InboxWaiter<Box>) => boolean,
): Promise<Delivery[]> {
  return new Promise<Delivery[]>((resolve, reject) => {
    const waiter: InboxWaiter<Box> = {
      consumer: request.consumer,
      max: request.max,
      resolve,
      reject,
      signal: request.signal,
      active: true,
      timer: undefined,
      hasTimer: false,
      onAbort: undefined,
      leave: undefined,
      clock: undefined,
      box,
    };
    waiters.push(waiter);
    armBlockedRead(waiter, clock, request.blockMs, leave);
  });
}

/** Takes `waiter` out of `waiters` and marks it gone; false when it was not waiting any more. */
export function removeWaiter<Box>(waiters: Array<InboxWaiter<Box>>, waiter: InboxWaiter<Box>): boolean {
  const index = waiters.indexOf(waiter);
  if (index < 0) return false;
  waiter.active = false;
  waiters.splice(index, 1);
  return true;
}

/** Resolves a waiter already taken out of its inbox with `deliveries`. */
export function settleWaiter<Box>(waiter: InboxWaiter<Box>, clock: Clock, deliveries: Delivery[]): void {
  waiter.active = false;
  settleBlockedRead(waiter, clock, deliveries);
}

/** Resolves every waiter with `[]` (the bus is closing); what throws is collected in `failures`. */
export function releaseWaiters<Box>(waiters: Array<InboxWaiter<Box>>, clock: Clock, failures: unknown[]): void {
  for (const waiter of waiters.splice(0)) {
    try {
      settleWaiter(waiter, clock, []);
    } catch (error) {
      failures.push(error);
    }
  }
}

/** The error `close()` rejects with when cleanup steps threw (it still ran every one). */
export function closeFailure(bus: string, failures: readonly unknown[]): AgentrixError | undefined {
  if (failures.length === 0) return undefined;
  return new AgentrixError('INTERNAL', `${bus} closed with ${failures.length} cleanup error(s)`, {
    cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
  });
}
