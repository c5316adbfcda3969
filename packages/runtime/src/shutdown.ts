import { hostname } from 'node:os';
import { AgentrixError, type Logger } from '@agentrix/core';

/** `createAgentrix({ shutdown })`: stop well on a signal. */
export interface ShutdownOptions {
  /** Signals that start a graceful shutdown. Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[];
  /**
   * How long running turns may take to finish once the signal came; then they are aborted and
   * their messages given back. Default 10 s (Kubernetes waits 30 s before SIGKILL, Docker 10 s).
   */
  timeoutMs?: number;
}

/** What a graceful shutdown drives: `Agentrix.shutdown`. */
export interface Drainable {
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Installs the signal handlers: the first signal shuts down gracefully (`shutdown`), a second one
 * stops waiting for running turns (they are aborted and their messages given back). When done,
 * the handlers are removed and the signal is raised again if nobody else listens to it, so the
 * process ends as it would have without them (exit code 128 + signal number). Returns the
 * function that removes the handlers (`close()` calls it).
 */
export function handleSignals(target: Drainable, options: ShutdownOptions, logger: Logger): () => void {
  if (typeof options !== 'object' || options === null) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `shutdown expects true or { signals, timeoutMs }, got ${JSON.stringify(options)}`,
    );
  }
  const signals = options.signals ?? DEFAULT_SHUTDOWN_SIGNALS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!Array.isArray(signals) || signals.length === 0 || !signals.every((signal) => /^SIG[A-Z0-9]+$/.test(signal))) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `shutdown.signals expects signal names like ['SIGTERM', 'SIGINT'], got ${JSON.stringify(signals)}`,
    );
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `shutdown.timeoutMs expects a whole number of milliseconds >= 0, got ${JSON.stringify(timeoutMs)}`,
    );
  }
  let abandon: (() => void) | undefined;
  let started = false;
  const remove = () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, 'shutdown: second signal; aborting running turns');
      abandon?.();
      return;
    }
    started = true;
    logger.info({ signal, timeoutMs }, 'shutdown: taking no new messages; waiting for running turns');
    const second = new Promise<void>((resolve) => {
      abandon = () => resolve();
    });
    void Promise.race([target.shutdown({ timeoutMs }), second.then(() => target.shutdown({ timeoutMs: 0 }))])
      .catch((error: unknown) => logger.error({ signal, error }, 'shutdown: close failed'))
      .finally(() => {
        remove();
        logger.info({ signal }, 'shutdown: done');
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}

/** Characters a consumer name (and the reply inbox `host:<consumer>` built from it) may hold. */
const NOT_ADDRESS = /[^A-Za-z0-9_.:-]+/g;

/**
 * A consumer name that stays the same across restarts of one process on one host:
 * `<hostname>:<name>` (the hostname cut to 60 characters, other characters than letters,
 * digits and `_ . : -` replaced by `-`). Give it as `consumer`: a restarted process then takes
 * back at once what it held when it stopped, instead of waiting for the lease. Each process of a
 * host needs its own `name` (two live processes with one name would take each other's messages).
 */
export function stableConsumerName(name: string, host: string = hostname()): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,60}$/.test(name)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `stableConsumerName expects a name of 1-60 letters, digits, "_", "." or "-" (one per process on a host, like "worker-1"), got ${JSON.stringify(name)}`,
    );
  }
  const safeHost = host.replace(NOT_ADDRESS, '-').slice(0, 60) || 'host';
  return `${safeHost}:${name}`;
}
