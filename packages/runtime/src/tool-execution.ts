import {
  type AbortWatcher,
  AgentrixError,
  type AgentrixEvents,
  abortError,
  type Clock,
  DEFAULT_TOOL_TIMEOUT_MS,
  formatIssues,
  serializeError,
  type ToolCall,
  type ToolContext,
  type ToolMessage,
  unwatchAbort,
  watchAbort,
} from '@agentrix/core';
import type { ToolSet } from './tool-set.js';

export interface ToolExecutionContext {
  agentId: string;
  turnId: string;
  signal: AbortSignal;
  clock: Clock;
  events: AgentrixEvents | undefined;
  send: ToolContext['send'];
  ask: ToolContext['ask'];
  /** The conversation of the turn. */
  threadId: string;
  /** Deadline of a tool that sets no `timeoutMs`. Default `DEFAULT_TOOL_TIMEOUT_MS` (60 s). */
  toolTimeoutMs?: number;
  /** Host secrets removed from tool errors before they reach the model, events and logs. */
  secrets?: readonly string[];
}

/**
 * Runs the tool calls of one model step and returns their messages in the calls' order, with
 * the contract of {@link executeToolCall}: mistakes become tool messages with `isError`, only an
 * abort of the turn rejects. `SkillExecutor` from `@agentrix/skills` implements it (idempotency,
 * approvals, retries, parallel `canParallel` calls).
 */
export interface ToolExecutor {
  executeToolCalls(calls: readonly ToolCall[], tools: ToolSet, context: ToolExecutionContext): Promise<ToolMessage[]>;
}

/** The default executor: one call at a time, in the model's order. */
export const sequentialToolExecutor: ToolExecutor = {
  async executeToolCalls(calls, tools, context) {
    const messages: ToolMessage[] = [];
    for (const call of calls) messages.push(await executeToolCall(call, tools, context));
    return messages;
  },
};

/**
 * Runs one tool call and returns the tool message for the model. Mistakes the model can fix
 * (unknown tool, invalid JSON, arguments failing the schema, a tool that throws or times out)
 * become a structured error in the tool message; they never fail the turn. Only an abort of
 * the turn itself propagates.
 */
export async function executeToolCall(
  call: ToolCall,
  tools: ToolSet,
  context: ToolExecutionContext,
): Promise<ToolMessage> {
  const { events } = context;
  const started = events ? context.clock.now() : 0;
  if (events?.has('tool.called'))
    events.emit('tool.called', { agentId: context.agentId, turnId: context.turnId, toolCall: call });
  const outcome = await runToolCall(call, tools, context);
  if (events?.has('tool.completed')) {
    events.emit('tool.completed', {
      agentId: context.agentId,
      turnId: context.turnId,
      toolCallId: call.id,
      name: call.name,
      isError: outcome.error !== undefined,
      durationMs: context.clock.now() - started,
      ...(outcome.error
        ? { error: serializeError(outcome.error, context.secrets ? { secrets: context.secrets } : {}) }
        : {}),
    });
  }
  return outcome.message;
}

interface ToolOutcome {
  message: ToolMessage;
  error?: AgentrixError;
}

async function runToolCall(call: ToolCall, tools: ToolSet, context: ToolExecutionContext): Promise<ToolOutcome> {
  const tool = tools.byName.get(call.name);
  if (!tool) {
    const available = [...tools.byName.keys()];
    return toolError(
      call,
      new AgentrixError(
        'TOOL_NOT_FOUND',
        `Unknown tool "${call.name}". ${available.length > 0 ? `Available tools: ${available.join(', ')}.` : 'No tools are available.'}`,
      ),
    );
  }
  let raw: unknown;
  try {
    raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (cause) {
    return toolError(
      call,
      new AgentrixError(
        'TOOL_INPUT_INVALID',
        `Arguments for tool "${call.name}" are not valid JSON (${(cause as Error).message}). Send one JSON object that matches the tool's parameters.`,
      ),
    );
  }
  const parsed = tool.input.safeParse(raw);
  if (!parsed.success) {
    return toolError(
      call,
      new AgentrixError(
        'TOOL_INPUT_INVALID',
        `Invalid arguments for tool "${call.name}": ${formatIssues(parsed.error)}`,
        {
          details: { issues: parsed.error.issues },
        },
      ),
    );
  }
  const timeoutMs = tool.timeoutMs ?? context.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const toolContext = new ToolCallContext(context, call.id);
  try {
    let output = tool.execute(parsed.data, toolContext);
    // A tool that returned synchronously has finished: nothing to bound, no timer.
    if (isThenable(output)) output = await bounded(output, toolContext, timeoutMs, call.name, context);
    return {
      message: {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: typeof output === 'string' ? output : (JSON.stringify(output) ?? 'null'),
      },
    };
  } catch (error) {
    if (context.signal.aborted) throw error;
    return toolError(
      call,
      AgentrixError.isInstance(error)
        ? error
        : new AgentrixError(
            'TOOL_FAILED',
            `Tool "${call.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
            {
              cause: error,
              toolName: call.name,
            },
          ),
      context.secrets,
    );
  }
}

/**
 * What a tool gets besides its input. Its `signal` is made on first read (most tools never read
 * it, and an AbortController per call costs more than the rest of the call); it fires at the
 * call's deadline or when the turn ends.
 */
class ToolCallContext implements ToolContext {
  readonly agentId: string;
  readonly turnId: string;
  readonly toolCallId: string;
  readonly threadId: string;
  readonly send: ToolContext['send'];
  readonly ask: ToolContext['ask'];
  readonly #context: ToolExecutionContext;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  constructor(context: ToolExecutionContext, toolCallId: string) {
    this.agentId = context.agentId;
    this.turnId = context.turnId;
    this.toolCallId = toolCallId;
    this.threadId = context.threadId;
    this.send = context.send;
    this.ask = context.ask;
    this.#context = context;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
      else if (this.#context.signal.aborted) this.#controller.abort(this.#context.signal.reason);
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

/**
 * Waits for an async tool under its deadline: the call ends with `TOOL_TIMEOUT` when `timeoutMs`
 * passes, or with the turn's abort when the turn ends, even if the tool ignores its signal and
 * never settles (the abandoned call is detached; its late result is ignored).
 */
function bounded(
  running: PromiseLike<unknown>,
  tool: ToolCallContext,
  timeoutMs: number,
  name: string,
  { clock, signal: turn }: ToolExecutionContext,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      unwatchAbort(turn, watcher);
      return true;
    };
    // One shared listener per turn signal (core `watchAbort`), not one per call.
    const watcher: AbortWatcher = {
      onAbort() {
        if (!settle()) return;
        tool.abort(turn.reason);
        reject(abortError(turn, `tool "${name}"`));
      },
    };
    // Something awaits this deadline: it keeps the process alive (not a background timer).
    const timer = clock.setTimeout(() => {
      if (!settle()) return;
      const error = new AgentrixError('TOOL_TIMEOUT', `Tool "${name}" did not finish within ${timeoutMs} ms`, {
        toolName: name,
      });
      tool.abort(error);
      reject(error);
    }, timeoutMs);
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

function toolError(call: ToolCall, error: AgentrixError, secrets?: readonly string[]): ToolOutcome {
  // What goes back to the model is redacted of URL credentials, keys and every host secret.
  const { code, message, details } = serializeError(error, secrets === undefined ? {} : { secrets });
  return {
    message: {
      role: 'tool',
      toolCallId: call.id,
      name: call.name,
      content: JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }),
      isError: true,
    },
    error,
  };
}
