import type { RetryPolicy } from './agent.js';
import { BACKGROUND_TIMER, type Clock, systemClock } from './clock.js';
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

/** Something to tell when a signal fires (see {@link watchAbort}). */
export interface AbortWatcher {
  onAbort(): void;
}

/**
 * Per signal: the watchers waiting on it, behind the one listener the signal has for them all. An
 * array, not a Set: a Set whose last entry is deleted reallocates its table, once per read of an
 * agent's inbox (bench/runtime section 4). Reads settle oldest first, so a removal finds its
 * watcher at the front.
 */
const abortWatchers = new WeakMap<AbortSignal, AbortWatcher[]>();

/**
 * Calls `watcher.onAbort()` once when `signal` fires, until {@link unwatchAbort}. Every watcher of
 * one signal shares one `abort` listener: code that waits many times on a long-lived signal (an
 * agent's read loop, a pool's acquire) adds an entry per wait instead of an EventTarget
 * listener, whose registration and removal cost far more (in Node 20 a listener added and removed
 * per wait also keeps young objects alive long enough to be promoted, which lengthens GC pauses).
 * The signal must not have fired yet, and the watcher must not be watching it already.
 */
export function watchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  const watchers = abortWatchers.get(signal);
  if (watchers === undefined) {
    // With its first watcher in it: an array grown by push holds 17 slots (a fresh agent's read
    // would keep 128 bytes it never uses, bench/runtime section 3).
    const created: AbortWatcher[] = [watcher];
    abortWatchers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const each of created.splice(0)) each.onAbort();
      },
      { once: true },
    );
  } else watchers.push(watcher);
}

/** Stops {@link watchAbort} telling `watcher`; nothing happens when it was not watching. */
export function unwatchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  const watchers = abortWatchers.get(signal);
  const index = watchers === undefined ? -1 : watchers.indexOf(watcher);
  // shift() for the usual oldest one: splice returns an array of what it removed.
  if (index === 0) watchers!.shift();
  else if (index !== -1) watchers!.splice(index, 1);
}

/**
 * Waits `ms` on the given clock; rejects with ABORTED when the signal fires first. The wait keeps
 * the process alive (something awaits it) unless `background` is set, for loops that poll while
 * nothing else is going on (a job worker's idle poll).
 */
export function sleep(
  ms: number,
  options: { clock?: Clock; signal?: AbortSignal; background?: boolean } = {},
): Promise<void> {
  const { clock = systemClock, signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal, 'wait'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortError(signal as AbortSignal, 'wait'));
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      options.background === true ? BACKGROUND_TIMER : undefined,
    );
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

/**
 * Settles like `promise`, unless `signal` fires first: then it rejects at once with the signal's
 * reason (see {@link abortError}) and `promise` is abandoned. An abandoned promise is detached:
 * its late result is ignored and its late rejection swallowed. This is what bounds a call to a
 * callee that ignores its AbortSignal and never settles (a stuck tool, a hung model stream).
 */
export function untilAborted<T>(promise: PromiseLike<T>, signal: AbortSignal | undefined, what?: string): Promise<T> {
  if (signal === undefined) return Promise.resolve(promise);
  if (signal.aborted) {
    Promise.resolve(promise).catch(ignore);
    return Promise.reject(abortError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const watcher: AbortWatcher = {
      onAbort() {
        Promise.resolve(promise).catch(ignore);
        reject(abortError(signal, what));
      },
    };
    watchAbort(signal, watcher);
    Promise.resolve(promise).then(
      (value) => {
        unwatchAbort(signal, watcher);
        resolve(value);
      },
      (error: unknown) => {
        unwatchAbort(signal, watcher);
        reject(error);
      },
    );
  });
}

function ignore(): void {}
