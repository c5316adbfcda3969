import { AgentrixError, type RetryPolicy, type Tool, type ToolContext } from '@agentrix/core';
import { z } from 'zod';

/** How expensive a call is; the router and planners prefer cheap skills. */
export type CostTier = 'low' | 'med' | 'high';

/** What an idempotency key function gets besides the input. */
export interface SkillKeyContext {
  agentId: string;
  turnId: string;
  toolCallId: string;
}

/**
 * How a call's idempotency key is derived: `'input'` hashes the validated input (same
 * arguments, same effect), a function computes it (return `undefined` for "no key this time").
 * Keys are scoped by skill name in the store (`<skill>:<key>`).
 */
export type IdempotencyKeyStrategy<Input> = 'input' | ((input: Input, context: SkillKeyContext) => string | undefined);

/** Where a skill comes from: a local function or a tool of an MCP server. */
export type SkillSource = { kind: 'local' } | { kind: 'mcp'; server: string; tool: string };

/**
 * A {@link Tool} with what an executor and a router need to run it safely. A skill is a tool,
 * so it fits everywhere a tool does (`ToolSet`, `registerTool`).
 */
export interface Skill<Input = unknown, Output = unknown> extends Tool<Input, Output> {
  /** Validates what `execute` returns; a mismatch is a `TOOL_FAILED` the model sees. */
  readonly output?: z.ZodType<Output>;
  /** JSON Schema of the output, when declared. */
  readonly outputParameters?: Record<string, unknown>;
  readonly costTier: CostTier;
  /** May run at the same time as other parallel calls of one model step. */
  readonly canParallel: boolean;
  readonly idempotencyKey?: IdempotencyKeyStrategy<Input>;
  /** The executor waits for the host's approval before running the call. */
  readonly requiresApproval: boolean | ((input: Input) => boolean);
  /** Retries of errors marked retryable (never of timeouts: the effect may have happened). */
  readonly retry?: RetryPolicy;
  readonly tags: readonly string[];
  readonly source: SkillSource;
}

export interface SkillOptions<S extends z.ZodType, O extends z.ZodType | undefined, Output> {
  /** 1-64 letters, digits, `_` or `-` (what model APIs accept). */
  name: string;
  description: string;
  input: S;
  /** Output schema. Default: none (any output). */
  output?: O;
  /** Default `'low'`. */
  costTier?: CostTier;
  /** Abort an attempt after this long. Default: no limit beyond the turn's own timeout. */
  timeoutMs?: number;
  /** Default `false`: calls run one at a time, in the model's order. */
  canParallel?: boolean;
  /** Default: none (every call acts). */
  idempotencyKey?: IdempotencyKeyStrategy<z.output<S>>;
  /** Default `false`. */
  requiresApproval?: boolean | ((input: z.output<S>) => boolean);
  /** Default: the executor's policy. */
  retry?: Partial<RetryPolicy>;
  /** Default `[]`. */
  tags?: readonly string[];
  execute(
    input: z.output<S>,
    context: ToolContext,
  ): (O extends z.ZodType ? z.input<O> : Output) | Promise<O extends z.ZodType ? z.input<O> : Output>;
}

export const SKILL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Input/output schema as JSON Schema (without `$schema`), or a typed error naming the skill. */
export function toJsonSchema(name: string, schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  try {
    const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io }) as Record<string, unknown>;
    return json;
  } catch (cause) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Skill "${name}": its ${io} schema cannot be expressed as JSON Schema (${(cause as Error).message})`,
      { toolName: name, cause },
    );
  }
}

function checkCommon(name: string, timeoutMs: number | undefined): void {
  if (!SKILL_NAME.test(name)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid skill name "${name}": expected 1-64 letters, digits, "_" or "-"`,
      { toolName: name },
    );
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new AgentrixError('INVALID_ARGUMENT', `Invalid timeoutMs for skill "${name}": expected a positive number`, {
      toolName: name,
    });
  }
}

function retryPolicy(retry: Partial<RetryPolicy> | undefined): RetryPolicy | undefined {
  if (!retry) return undefined;
  return {
    attempts: retry.attempts ?? 3,
    baseDelayMs: retry.baseDelayMs ?? 100,
    maxDelayMs: retry.maxDelayMs ?? 5_000,
  };
}

/** Declares a local skill; its JSON Schemas are computed once, here. */
export function defineSkill<S extends z.ZodType, O extends z.ZodType | undefined = undefined, Output = unknown>(
  options: SkillOptions<S, O, Output>,
): Skill<z.output<S>, O extends z.ZodType ? z.output<O> : Output> {
  checkCommon(options.name, options.timeoutMs);
  const parameters = toJsonSchema(options.name, options.input, 'input');
  const skill = {
    name: options.name,
    description: options.description,
    input: options.input,
    parameters,
    costTier: options.costTier ?? 'low',
    canParallel: options.canParallel ?? false,
    requiresApproval: options.requiresApproval ?? false,
    tags: Object.freeze([...(options.tags ?? [])]),
    source: { kind: 'local' } as const,
    execute: options.execute,
    ...(options.output ? { output: options.output } : {}),
    ...(options.output ? { outputParameters: toJsonSchema(options.name, options.output, 'output') } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.retry ? { retry: retryPolicy(options.retry) } : {}),
  };
  return Object.freeze(skill) as unknown as Skill<z.output<S>, O extends z.ZodType ? z.output<O> : Output>;
}

/** What {@link skillFromTool} may add to a plain tool. */
export type SkillExtras<Input> = Partial<
  Pick<Skill<Input>, 'costTier' | 'canParallel' | 'idempotencyKey' | 'requiresApproval' | 'tags' | 'retry'>
>;

/** Turns a core `Tool` (from `defineTool`) into a skill with the given extras. */
export function skillFromTool<Input, Output>(
  tool: Tool<Input, Output>,
  extras: SkillExtras<Input> = {},
): Skill<Input, Output> {
  if (isSkill(tool) && Object.keys(extras).length === 0) return tool as Skill<Input, Output>;
  checkCommon(tool.name, tool.timeoutMs);
  return Object.freeze({
    name: tool.name,
    description: tool.description,
    input: tool.input,
    parameters: tool.parameters,
    execute: tool.execute,
    ...(tool.timeoutMs !== undefined ? { timeoutMs: tool.timeoutMs } : {}),
    costTier: extras.costTier ?? 'low',
    canParallel: extras.canParallel ?? false,
    requiresApproval: extras.requiresApproval ?? false,
    tags: Object.freeze([...(extras.tags ?? [])]),
    source: { kind: 'local' } as const,
    ...(extras.idempotencyKey !== undefined ? { idempotencyKey: extras.idempotencyKey } : {}),
    ...(extras.retry ? { retry: extras.retry } : {}),
  });
}

/** True for a value shaped like a {@link Skill} (a tool with a cost tier and a source). */
export function isSkill(value: unknown): value is Skill<any, any> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Skill>;
  return typeof candidate.costTier === 'string' && typeof candidate.source === 'object' && candidate.source !== null;
}
