import {
  AgentrixError,
  type AgentrixEvents,
  type Clock,
  DEFAULT_TOOL_TIMEOUT_MS,
  formatIssues,
  type SerializedError,
  serializeError,
  type ToolCall,
  type ToolContext,
  type ToolMessage,
} from '@agentrix/core';
import { AttemptContext, runAttempt } from '@agentrix/skills';
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

/**
 * The default executor: one call at a time, in the model's order. Calls of tools that return
 * synchronously finish without a promise each (an `async` function per call and per step cost
 * about 0.6 KB of garbage an ask: bench/runtime section 4, allocation profile).
 */
export const sequentialToolExecutor: ToolExecutor = {
  executeToolCalls(calls, tools, context) {
    try {
      const messages = runToolCallsInOrder(calls, tools, context);
      return Array.isArray(messages) ? Promise.resolve(messages) : messages;
    } catch (error) {
      return Promise.reject(error);
    }
  },
};

/**
 * {@link sequentialToolExecutor}'s work: the messages at once when every tool returned
 * synchronously (the turn then awaits nothing for its tools), else their promise.
 */
export function runToolCallsInOrder(
  calls: readonly ToolCall[],
  tools: ToolSet,
  context: ToolExecutionContext,
): ToolMessage[] | Promise<ToolMessage[]> {
  const messages: ToolMessage[] = [];
  for (let index = 0; index < calls.length; index++) {
    const message = toolCallMessage(calls[index]!, tools, context);
    if (message instanceof Promise) return finishInOrder(message, calls, index + 1, tools, context, messages);
    messages.push(message);
  }
  return messages;
}

/** The rest of a step's calls once one of them returned a promise. */
async function finishInOrder(
  pending: Promise<ToolMessage>,
  calls: readonly ToolCall[],
  next: number,
  tools: ToolSet,
  context: ToolExecutionContext,
  messages: ToolMessage[],
): Promise<ToolMessage[]> {
  messages.push(await pending);
  for (let index = next; index < calls.length; index++)
    messages.push(await toolCallMessage(calls[index]!, tools, context));
  return messages;
}

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
  return toolCallMessage(call, tools, context);
}

/** {@link executeToolCall}, without a promise when the tool returns synchronously. */
function toolCallMessage(
  call: ToolCall,
  tools: ToolSet,
  context: ToolExecutionContext,
): ToolMessage | Promise<ToolMessage> {
  const { events } = context;
  // Timed only when someone listens at the call's start (a clock read is 70 ns, bench/runtime section 4).
  const started = events?.has('tool.completed') ? context.clock.now() : -1;
  if (events?.has('tool.called'))
    events.emit('tool.called', {
      agentId: context.agentId,
      threadId: context.threadId,
      turnId: context.turnId,
      toolCall: call,
    });
  const outcome = runToolCall(call, tools, context);
  return outcome instanceof Promise
    ? outcome.then((settled) => completed(call, context, started, settled))
    : completed(call, context, started, outcome);
}

/** Emits `tool.completed` and gives the message. */
function completed(call: ToolCall, context: ToolExecutionContext, started: number, outcome: ToolOutcome): ToolMessage {
  const { events } = context;
  if (started >= 0 && events?.has('tool.completed')) {
    events.emit('tool.completed', {
      agentId: context.agentId,
      threadId: context.threadId,
      turnId: context.turnId,
      toolCallId: call.id,
      name: call.name,
      isError: outcome.error !== undefined,
      durationMs: context.clock.now() - started,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
  }
  return outcome.message;
}

interface ToolOutcome {
  message: ToolMessage;
  /** The failure as the model saw it (redacted), for the `tool.completed` event. */
  error?: SerializedError;
}

function runToolCall(
  call: ToolCall,
  tools: ToolSet,
  context: ToolExecutionContext,
): ToolOutcome | Promise<ToolOutcome> {
  const tool = tools.byName.get(call.name);
  if (!tool) {
    const available = [...tools.byName.keys()];
    return toolError(
      call,
      new AgentrixError(
        'TOOL_NOT_FOUND',
        `Unknown tool "${call.name}". ${available.length > 0 ? `Available tools: ${available.join(', ')}.` : 'No tools are available.'}`,
      ),
      context,
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
      context,
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
      context,
    );
  }
  const timeoutMs = tool.timeoutMs ?? context.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  let running: unknown;
  try {
    // The same attempt as a skill's: under its deadline and the turn's signal, even when the
    // tool ignores its signal; a tool that returned synchronously has finished (no timer).
    running = runAttempt(tool, parsed.data, new AttemptContext(context, call.id, call.name), {
      clock: context.clock,
      timeoutMs,
      turn: context.signal,
      onTimeout: toolTimedOut,
    });
  } catch (error) {
    return toolFailed(call, error, context);
  }
  return running instanceof Promise
    ? running.then(
        (output: unknown) => toolOutput(call, output, context),
        (error: unknown) => toolFailed(call, error, context),
      )
    : toolOutput(call, running, context);
}

/** One function for every call (a closure per call was garbage of every ask). */
function toolTimedOut(attempt: AttemptContext, ms: number): AgentrixError {
  return new AgentrixError('TOOL_TIMEOUT', `Tool "${attempt.toolName}" did not finish within ${ms} ms`, {
    toolName: attempt.toolName,
  });
}

function toolOutput(call: ToolCall, output: unknown, context: ToolExecutionContext): ToolOutcome {
  try {
    return {
      message: {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: typeof output === 'string' ? output : (JSON.stringify(output) ?? 'null'),
      },
    };
  } catch (error) {
    return toolFailed(call, error, context);
  }
}

/** A tool that threw or timed out: an error message for the model; an abort of the turn propagates. */
function toolFailed(call: ToolCall, error: unknown, context: ToolExecutionContext): ToolOutcome {
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
    context,
  );
}

function toolError(call: ToolCall, error: AgentrixError, context: ToolExecutionContext): ToolOutcome {
  // What goes back to the model (and into the event) is redacted of URL credentials, keys and every host secret.
  const serialized = serializeError(error, { secrets: context.secrets });
  const { code, message, details } = serialized;
  return {
    message: {
      role: 'tool',
      toolCallId: call.id,
      name: call.name,
      content: JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }),
      isError: true,
    },
    error: serialized,
  };
}
