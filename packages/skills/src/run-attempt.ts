import {
  AgentrixError,
  abortError,
  type Clock,
  DEFAULT_THREAD,
  type Tool,
  type ToolContext,
  throwIfAborted,
} from '@agentrix/core';
import { type AbortWatcher, unwatchAbort, watchAbort } from '@agentrix/core/implement';
import type { SkillCallContext } from './skill-executor-options.js';

const noSend: ToolContext['send'] = () => {
  throw new AgentrixError('TOOL_FAILED', 'This call has no message bus: skills cannot send messages here');
};

const noAsk: ToolContext['ask'] = () =>
  Promise.reject(new AgentrixError('TOOL_FAILED', 'This call has no agents to ask: run it in an AgentManager'));

/**
 * What a skill gets for one attempt. Its `signal` is made on first read: most local skills never
 * read it, and an AbortController per call costs more than the rest of the executor
 * (bench/skills). A class, so a call allocates one object and no closures on the fast path.
 */
export class AttemptContext implements ToolContext {
  readonly agentId: string;
  readonly turnId: string;
  readonly threadId: string;
  readonly toolCallId: string;
  readonly send: ToolContext['send'];
  readonly ask: ToolContext['ask'];
  /** The name the skill was called by (an MCP skill's registered name, say). */
  readonly toolName: string;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor(context: SkillCallContext, toolCallId: string, toolName: string) {
    this.agentId = context.agentId;
    this.turnId = context.turnId;
    this.threadId = context.threadId ?? DEFAULT_THREAD;
    this.toolCallId = toolCallId;
    this.send = context.send ?? noSend;
    this.ask = context.ask ?? noAsk;
    this.toolName = toolName;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export interface AttemptOptions {
  clock: Clock;
  timeoutMs: number;
  /** The turn's signal: when it fires the attempt ends at once, with the turn's abort. */
  turn: AbortSignal;
  /** The error an attempt fails with at its deadline (made, and logged, only then). */
  onTimeout(context: AttemptContext, timeoutMs: number): AgentrixError;
}

/**
 * Runs one attempt of a skill, raced against its deadline and the turn's signal, so a skill that
 * ignores its signal and never settles cannot hold the turn. The skill's own `signal` fires on
 * either. The abandoned promise is detached: its late result is ignored and its late rejection
 * swallowed, so neither reaches the model nor an idempotency record.
 *
 * Returns the value itself when `execute` returns synchronously (it has finished: there is
 * nothing to bound), else a promise. A synchronous throw propagates.
 */
export function runAttempt(
  skill: Pick<Tool<any, unknown>, 'execute'>,
  input: unknown,
  context: AttemptContext,
  options: AttemptOptions,
): unknown {
  const { turn } = options;
  throwIfAborted(turn, 'turn');
  const running = skill.execute(input, context);
  if (!isThenable(running)) return running;
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      options.clock.clearTimeout(timer);
      unwatchAbort(turn, watcher);
      return true;
    };
    // One shared listener per turn signal (see `watchAbort`), not one per call.
    const watcher: AbortWatcher = {
      onAbort: () => {
        if (!settle()) return;
        context.abort(turn.reason);
        reject(abortError(turn, 'turn'));
      },
    };
    // A deadline something awaits: an ordinary timer, it keeps a host script alive.
    const timer = options.clock.setTimeout(() => {
      if (!settle()) return;
      const error = options.onTimeout(context, options.timeoutMs);
      context.abort(error);
      reject(error);
    }, options.timeoutMs);
    if (turn.aborted) watcher.onAbort();
    else watchAbort(turn, watcher);
    Promise.resolve(running).then(
      (output) => {
        if (settle()) resolve(output);
      },
      (error: unknown) => {
        if (settle()) reject(error);
      },
    );
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
