import type { RetryPolicy } from './agent.js';
import { type Clock, systemClock } from './clock.js';
import { AgentrixError } from './errors.js';

/** The AgentrixError for an aborted signal, keeping the signal's reason as the cause. */
export function abortError(signal: AbortSignal, what = 'operation'): AgentrixError {
  const reason: unknown = signal.reason;
  if (AgentrixError.isInstance(reason)) return reason;
  return new AgentrixError(
    'ABORTED',
    `The ${what} was aborted${reason instanceof Error ? `: ${reason.message}` : ''}`,
    {
      cause: reason,
    },
  );
}

/** Throws {@link abortError} when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/** Waits `ms` on the given clock; rejects with ABORTED when the signal fires first. */
export function sleep(ms: number, options: { clock?: Clock; signal?: AbortSignal } = {}): Promise<void> {
  const { clock = systemClock, signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal, 'wait'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortError(signal as AbortSignal, 'wait'));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): exponential from
 * `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (half fixed, half random).
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
