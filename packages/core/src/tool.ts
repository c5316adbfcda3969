import { z } from 'zod';
import { AgentrixError } from './errors.js';
import type { MessageEnvelope, SendInput } from './message.js';

/**
 * How long a tool call may run when neither the tool nor the executor says otherwise: 60 s. A
 * tool that never settles fails with `TOOL_TIMEOUT` after it, so one bad tool cannot wedge a turn.
 */
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

/** What a running tool gets besides its input. */
export interface ToolContext {
  agentId: string;
  turnId: string;
  toolCallId: string;
  /** The conversation the turn belongs to (`main` unless its message said otherwise). */
  threadId: string;
  /** Fires when the turn is aborted, times out or the agent stops. */
  signal: AbortSignal;
  /**
   * Sends a message as this agent (`from` is filled; `replyTo` defaults to this agent, `threadId`
   * to the turn's thread).
   */
  send(input: Omit<SendInput, 'from'> & { from?: never }): Promise<MessageEnvelope>;
  /**
   * Asks another agent as this agent and waits for its answer, within this turn: a delegated
   * sub-task. The answer's envelope, or a typed error (`AGENT_NOT_FOUND`, `AGENT_PAUSED`,
   * `DELEGATION_CYCLE`, the other agent's failure, `TIMEOUT` after `timeoutMs`, never past the
   * turn's deadline). The other agent's work is charged to this turn's user / workflow / tags.
   */
  ask(input: DelegateInput): Promise<MessageEnvelope>;
}

/** What {@link ToolContext.ask} takes. */
export interface DelegateInput {
  to: string;
  content: string;
  /** Default 60 s (and never past the turn's deadline). */
  timeoutMs?: number;
  data?: unknown;
}

/** A local function the model can call. Create one with {@link defineTool}. */
export interface Tool<Input = unknown, Output = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /** JSON Schema of the input, as sent to the model. */
  readonly parameters: Record<string, unknown>;
  /**
   * Abort the call after this long; the call fails with `TOOL_TIMEOUT` even when the tool ignores
   * its signal (its late result is dropped). Default {@link DEFAULT_TOOL_TIMEOUT_MS}, and never
   * past the turn's own deadline.
   */
  readonly timeoutMs?: number;
  execute(input: Input, context: ToolContext): Output | Promise<Output>;
}

export interface ToolOptions<S extends z.ZodType, Output> {
  /** 1-64 letters, digits, `_` or `-` (what model APIs accept). */
  name: string;
  description: string;
  input: S;
  timeoutMs?: number;
  execute(input: z.output<S>, context: ToolContext): Output | Promise<Output>;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Declares a tool; its JSON Schema is computed once, here. */
export function defineTool<S extends z.ZodType, Output>(options: ToolOptions<S, Output>): Tool<z.output<S>, Output> {
  if (!TOOL_NAME.test(options.name)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid tool name "${options.name}": expected 1-64 letters, digits, "_" or "-"`,
      { toolName: options.name },
    );
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid timeoutMs for tool "${options.name}": expected a positive number`,
      {
        toolName: options.name,
      },
    );
  }
  let parameters: Record<string, unknown>;
  try {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(options.input, { io: 'input' }) as Record<string, unknown>;
    parameters = schema;
  } catch (cause) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Tool "${options.name}": its input schema cannot be expressed as JSON Schema (${(cause as Error).message})`,
      { toolName: options.name, cause },
    );
  }
  return {
    name: options.name,
    description: options.description,
    input: options.input as z.ZodType<z.output<S>>,
    parameters,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    execute: options.execute,
  };
}
