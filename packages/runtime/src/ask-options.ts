// The options of `ask()`, and the checks of the caller's ask options and thread ids.
import { AgentrixError, ThreadIdSchema } from '@agentrix/core';

export interface AskOptions {
  /** Default: the manager's `askTimeoutMs` (60 s). Honoured whatever the bus does (an outage included). */
  timeoutMs?: number;
  /** The conversation to ask in (one context per thread). Default `main`. */
  threadId?: string;
  signal?: AbortSignal;
  data?: unknown;
  correlationId?: string;
}

export function checkAskOptions(options: AskOptions): void {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid ask timeoutMs ${String(timeoutMs)}: expected a positive number of milliseconds (or leave it out for the manager's askTimeoutMs)`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new AgentrixError('INVALID_ARGUMENT', 'Invalid ask signal: expected an AbortSignal');
  }
  if (options.threadId !== undefined) checkThreadId(options.threadId);
}

export function checkThreadId(threadId: unknown): void {
  if (!ThreadIdSchema.safeParse(threadId).success) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid thread id ${JSON.stringify(threadId)}: expected 1-200 letters, digits, "_", ".", ":", "@" or "-"`,
    );
  }
}
