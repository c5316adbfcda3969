import { createHash } from 'node:crypto';
import {
  AgentrixError,
  AgentrixEvents,
  abortError,
  backoffDelay,
  type Clock,
  DEFAULT_THREAD,
  DEFAULT_TOOL_TIMEOUT_MS,
  formatIssues,
  type IdempotencyStore,
  type Logger,
  type RetryPolicy,
  redactingLogger,
  redactText,
  redactValue,
  serializeError,
  silentLogger,
  sleep,
  systemClock,
  type Tool,
  type ToolCall,
  type ToolMessage,
} from '@agentrix/core';
import { truncateText } from '@agentrix/core/implement';
import { ApprovalGate } from './approval-gate.js';
import { InMemoryIdempotencyStore } from './in-memory-idempotency-store.js';
import { AttemptContext, runAttempt } from './run-attempt.js';
import { isSkill, type Skill, skillFromTool } from './skill.js';
import type { SkillCallContext, SkillExecutorOptions } from './skill-executor-options.js';
import type { SkillRegistry } from './skill-registry.js';

/**
 * What an agent may call: a `SkillSet` from `registry.select(...)`, or the runtime's `ToolSet`
 * (plain tools in it run as low-cost, sequential, non-idempotent skills).
 */
export interface ToolSetLike {
  readonly byName: ReadonlyMap<string, Tool<any, unknown>>;
}

/** Plain tools seen by an executor, upgraded to skills once. */
const upgraded = new WeakMap<Tool<any, unknown>, Skill<any, unknown>>();

function asSkill(tool: Tool<any, unknown>): Skill<any, unknown> {
  if (isSkill(tool)) return tool;
  let skill = upgraded.get(tool);
  if (!skill) {
    skill = skillFromTool(tool);
    upgraded.set(tool, skill);
  }
  return skill;
}

const neverAborted = new AbortController().signal;

interface CallMeta {
  toolCallId: string;
  name: string;
}

/**
 * Runs skill calls safely: validate the input (a mismatch goes back to the model, the skill never
 * sees it) -> idempotency check (a completed key returns the stored result, no second effect) ->
 * approval (for `requiresApproval` skills) -> run with a timeout and an `AbortSignal` -> retry
 * retryable errors with exponential backoff -> validate the output -> record the result.
 *
 * Every attempt has a deadline (the skill's `timeoutMs`, else the executor's `defaultTimeoutMs`,
 * 60 s by default) that fires even when the skill ignores its signal, and the turn's signal ends
 * the call at once: one bad skill cannot wedge a turn. What leaves the executor (tool errors for
 * the model, events, approval records, logs) is redacted of the host's `secrets`.
 *
 * {@link executeToolCall} has the contract of the runtime's: mistakes become a tool message with
 * `isError`, only an abort of the turn rejects. {@link executeToolCalls} runs the consecutive
 * `canParallel` calls of one model step together.
 */
export class SkillExecutor {
  readonly events: AgentrixEvents;
  readonly #registry: SkillRegistry | undefined;
  readonly #store: IdempotencyStore;
  readonly #memoryStore: InMemoryIdempotencyStore | undefined;
  readonly #approvals: ApprovalGate;
  readonly #retry: RetryPolicy;
  readonly #maxResultChars: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #secrets: readonly (string | undefined)[] | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: SkillExecutorOptions = {}) {
    const timeoutMs = options.defaultTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Invalid defaultTimeoutMs for SkillExecutor: expected a positive number of milliseconds, got ${String(options.defaultTimeoutMs)}`,
      );
    }
    this.#timeoutMs = timeoutMs;
    this.#registry = options.registry;
    this.#clock = options.clock ?? systemClock;
    this.#store = options.idempotency ?? new InMemoryIdempotencyStore({ clock: this.#clock });
    this.#memoryStore = this.#store instanceof InMemoryIdempotencyStore ? this.#store : undefined;
    this.events = options.events ?? new AgentrixEvents();
    this.#secrets = options.secrets;
    // Every field and message goes through redaction before the host's logger sees it.
    this.#logger = options.logger ? redactingLogger(options.logger, options.secrets) : silentLogger;
    this.#approvals =
      options.approvals ??
      new ApprovalGate({
        clock: this.#clock,
        logger: this.#logger,
        ...(options.secrets ? { secrets: options.secrets } : {}),
        events: this.events,
      });
    this.#retry = {
      attempts: options.retry?.attempts ?? 3,
      baseDelayMs: options.retry?.baseDelayMs ?? 100,
      maxDelayMs: options.retry?.maxDelayMs ?? 5_000,
    };
    this.#maxResultChars = options.maxResultChars ?? 100_000;
    this.#leaseMs = options.idempotencyLeaseMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** The gate `requiresApproval` calls wait at (hand it to the host's API). */
  get approvals(): ApprovalGate {
    return this.#approvals;
  }

  get idempotency(): IdempotencyStore {
    return this.#store;
  }

  /**
   * Runs one model tool call and returns the tool message for the model. `skills` is what the
   * agent may call (its allow-list); default: everything in the registry.
   */
  async executeToolCall(
    call: ToolCall,
    skills: ToolSetLike | undefined,
    context: SkillCallContext,
  ): Promise<ToolMessage> {
    const events = context.events ?? this.events;
    const started = events.has('tool.completed') ? this.#clock.now() : 0;
    if (events.has('tool.called')) {
      events.emit('tool.called', {
        agentId: context.agentId,
        threadId: context.threadId ?? DEFAULT_THREAD,
        turnId: context.turnId,
        toolCall: { ...call, arguments: redactText(call.arguments, this.#secrets) },
      });
    }
    let message: ToolMessage;
    let failure: AgentrixError | undefined;
    try {
      const content = await this.#runToolCall(call, skills, context);
      message = { role: 'tool', toolCallId: call.id, name: call.name, content };
    } catch (thrown) {
      if (context.signal.aborted) throw thrown;
      failure = asToolError(thrown, call.name, this.#secrets);
      message = toolErrorMessage(call, failure, this.#secrets);
    }
    if (events.has('tool.completed')) {
      events.emit('tool.completed', {
        agentId: context.agentId,
        threadId: context.threadId ?? DEFAULT_THREAD,
        turnId: context.turnId,
        toolCallId: call.id,
        name: call.name,
        isError: message.isError === true,
        durationMs: this.#clock.now() - started,
        ...(failure ? { error: serializeError(failure, { secrets: this.#secrets }) } : {}),
      });
    }
    return message;
  }

  /**
   * Runs the tool calls of one model step and returns their messages in the calls' order.
   * Consecutive calls of `canParallel` skills run together; any other call runs alone, after the
   * ones before it (calls may depend on each other's effects).
   */
  async executeToolCalls(
    calls: readonly ToolCall[],
    skills: ToolSetLike | undefined,
    context: SkillCallContext,
  ): Promise<ToolMessage[]> {
    const results: ToolMessage[] = new Array(calls.length);
    let index = 0;
    while (index < calls.length) {
      const call = calls[index]!;
      if (!this.#parallel(call, skills)) {
        results[index] = await this.executeToolCall(call, skills, context);
        index++;
        continue;
      }
      let end = index + 1;
      while (end < calls.length && this.#parallel(calls[end]!, skills)) end++;
      const batch = calls.slice(index, end);
      const settled = await Promise.allSettled(batch.map((item) => this.executeToolCall(item, skills, context)));
      for (let offset = 0; offset < settled.length; offset++) {
        const outcome = settled[offset]!;
        if (outcome.status === 'rejected') throw outcome.reason;
        results[index + offset] = outcome.value;
      }
      index = end;
    }
    return results;
  }

  /**
   * Calls a skill from code (not from a model): same pipeline, but the output is returned and
   * failures throw `AgentrixError` (TOOL_NOT_FOUND, TOOL_INPUT_INVALID, TOOL_FAILED, TOOL_TIMEOUT, ...).
   */
  async call<Output = unknown>(
    name: string,
    input: unknown,
    context: Partial<SkillCallContext> & { toolCallId?: string } = {},
  ): Promise<Output> {
    const skill = this.#resolve(name, undefined);
    const full: SkillCallContext = {
      agentId: context.agentId ?? 'host',
      turnId: context.turnId ?? 'direct',
      signal: context.signal ?? neverAborted,
      ...(context.send ? { send: context.send } : {}),
      ...(context.ask ? { ask: context.ask } : {}),
      ...(context.threadId ? { threadId: context.threadId } : {}),
    };
    const { output } = await this.#invoke(skill, input, { toolCallId: context.toolCallId ?? 'direct', name }, full);
    return output as Output;
  }

  #parallel(call: ToolCall, skills: ToolSetLike | undefined): boolean {
    const tool = skills ? skills.byName.get(call.name) : this.#registry?.get(call.name);
    return tool !== undefined && isSkill(tool) && tool.canParallel;
  }

  #resolve(name: string, skills: ToolSetLike | undefined): Skill<any, unknown> {
    const tool = skills ? skills.byName.get(name) : this.#registry?.get(name);
    if (tool) return asSkill(tool);
    const available = skills ? [...skills.byName.keys()] : (this.#registry?.names() ?? []);
    throw new AgentrixError(
      'TOOL_NOT_FOUND',
      `Unknown tool "${name}". ${available.length > 0 ? `Available tools: ${available.join(', ')}.` : 'No tools are available.'}`,
      { toolName: name },
    );
  }

  async #runToolCall(call: ToolCall, skills: ToolSetLike | undefined, context: SkillCallContext): Promise<string> {
    const skill = this.#resolve(call.name, skills);
    let raw: unknown;
    try {
      raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch (cause) {
      throw new AgentrixError(
        'TOOL_INPUT_INVALID',
        `Arguments for tool "${call.name}" are not valid JSON (${(cause as Error).message}). Send one JSON object that matches the tool's parameters.`,
        { toolName: call.name },
      );
    }
    const { content } = await this.#invoke(skill, raw, { toolCallId: call.id, name: call.name }, context);
    return content;
  }

  async #invoke(
    skill: Skill<any, unknown>,
    raw: unknown,
    meta: CallMeta,
    context: SkillCallContext,
  ): Promise<{ output: unknown; content: string }> {
    const parsed = skill.input.safeParse(raw);
    if (!parsed.success) {
      throw new AgentrixError(
        'TOOL_INPUT_INVALID',
        `Invalid arguments for tool "${meta.name}": ${formatIssues(parsed.error)}`,
        {
          toolName: meta.name,
          details: { issues: parsed.error.issues },
        },
      );
    }
    const input = parsed.data;
    const key = this.#key(skill, input, meta, context);
    if (key !== undefined) {
      const claim = this.#memoryStore
        ? this.#memoryStore.claimSync(key, this.#lease(skill))
        : await this.#store.claim(key, { leaseMs: this.#lease(skill) });
      if (!claim.claimed) {
        if (claim.record.status === 'completed') {
          if (this.events.has('skill.deduplicated')) {
            this.events.emit('skill.deduplicated', {
              agentId: context.agentId,
              turnId: context.turnId,
              toolCallId: meta.toolCallId,
              name: meta.name,
              key,
            });
          }
          const output = claim.record.result;
          return { output, content: this.#content(output) };
        }
        throw new AgentrixError(
          'TOOL_FAILED',
          `Tool "${meta.name}" is already running with the same idempotency key; try again later.`,
          { toolName: meta.name, retryable: true, details: { key } },
        );
      }
    }
    try {
      await this.#approve(skill, input, meta, context);
      const output = await this.#attempts(skill, input, meta, context);
      const content = this.#content(output);
      if (key !== undefined) await this.#store.complete(key, output === undefined ? null : output);
      return { output, content };
    } catch (error) {
      if (key !== undefined) await this.#store.release(key, serializeError(error)).catch(() => {});
      throw error;
    }
  }

  #key(skill: Skill<any, unknown>, input: unknown, meta: CallMeta, context: SkillCallContext): string | undefined {
    const strategy = skill.idempotencyKey;
    if (strategy === undefined) return undefined;
    if (strategy === 'input') return `${skill.name}:${hashInput(input)}`;
    const key = strategy(input, { agentId: context.agentId, turnId: context.turnId, toolCallId: meta.toolCallId });
    return key === undefined ? undefined : `${skill.name}:${key}`;
  }

  #lease(skill: Skill<any, unknown>): number {
    const attempts = (skill.retry ?? this.#retry).attempts;
    return Math.max(this.#leaseMs, 2 * (skill.timeoutMs ?? this.#timeoutMs) * attempts);
  }

  async #approve(skill: Skill<any, unknown>, input: unknown, meta: CallMeta, context: SkillCallContext): Promise<void> {
    const required =
      typeof skill.requiresApproval === 'function' ? skill.requiresApproval(input) : skill.requiresApproval;
    if (!required) return;
    // The record is shown to people and listed over APIs: it gets a redacted copy of the input
    // (the skill itself runs with the real one).
    const decision = await this.#approvals.request(
      {
        agentId: context.agentId,
        turnId: context.turnId,
        toolCallId: meta.toolCallId,
        skill: meta.name,
        input: redactValue(input, this.#secrets),
      },
      { signal: context.signal },
    );
    if (decision.approved) return;
    throw new AgentrixError(
      decision.outcome === 'timed-out' ? 'TIMEOUT' : 'TOOL_FAILED',
      decision.outcome === 'timed-out'
        ? `Tool "${meta.name}" needs approval and none came in time (${decision.reason}). Do not retry it unless asked.`
        : `Tool "${meta.name}" was not approved: ${decision.reason}`,
      { toolName: meta.name, retryable: false, details: { approval: decision.outcome, reason: decision.reason } },
    );
  }

  async #attempts(
    skill: Skill<any, unknown>,
    input: unknown,
    meta: CallMeta,
    context: SkillCallContext,
  ): Promise<unknown> {
    const policy = skill.retry ?? this.#retry;
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await this.#once(skill, input, meta, context);
        if (!skill.output) return output;
        const checked = skill.output.safeParse(output);
        if (checked.success) return checked.data;
        throw new AgentrixError(
          'TOOL_FAILED',
          `Tool "${meta.name}" returned output that does not match its schema: ${formatIssues(checked.error)}`,
          { toolName: meta.name, retryable: false, details: { issues: checked.error.issues } },
        );
      } catch (thrown) {
        if (context.signal.aborted) throw abortError(context.signal, 'turn');
        const error = asToolError(thrown, meta.name, this.#secrets);
        if (!error.isRetryable || error.code === 'TOOL_TIMEOUT' || attempt >= policy.attempts) throw error;
        const delayMs = error.retryAfterMs ?? backoffDelay(attempt, policy, this.#random);
        const serialized = serializeError(error, { secrets: this.#secrets });
        this.#logger.warn(
          {
            agentId: context.agentId,
            turnId: context.turnId,
            toolCallId: meta.toolCallId,
            toolName: meta.name,
            attempt,
            delayMs,
            code: error.code,
            error: serialized,
          },
          'tool call failed; retrying',
        );
        if (this.events.has('skill.retry')) {
          this.events.emit('skill.retry', {
            agentId: context.agentId,
            turnId: context.turnId,
            toolCallId: meta.toolCallId,
            name: meta.name,
            attempt,
            delayMs,
            error: serialized,
          });
        }
        // An ordinary timer: the caller awaits this wait, so it keeps a host script alive.
        await sleep(delayMs, { clock: this.#clock, signal: context.signal });
      }
    }
  }

  /** One attempt under its deadline and the turn's signal (see {@link runAttempt}). */
  #once(skill: Skill<any, unknown>, input: unknown, meta: CallMeta, context: SkillCallContext): unknown {
    const attempt = new AttemptContext(context, meta.toolCallId, meta.name);
    return runAttempt(skill, input, attempt, {
      clock: this.#clock,
      timeoutMs: skill.timeoutMs ?? this.#timeoutMs,
      turn: context.signal,
      onTimeout: this.#onTimeout,
    });
  }

  readonly #onTimeout = (attempt: AttemptContext, timeoutMs: number): AgentrixError => {
    const error = new AgentrixError(
      'TOOL_TIMEOUT',
      `Tool "${attempt.toolName}" did not finish within ${timeoutMs} ms`,
      { toolName: attempt.toolName, details: { timeoutMs } },
    );
    this.#logger.warn(
      {
        agentId: attempt.agentId,
        turnId: attempt.turnId,
        toolCallId: attempt.toolCallId,
        toolName: attempt.toolName,
        timeoutMs,
        code: error.code,
      },
      'tool call timed out; a late result will be ignored',
    );
    return error;
  };

  #content(output: unknown): string {
    const text = typeof output === 'string' ? output : (JSON.stringify(output) ?? 'null');
    return truncateText(text, this.#maxResultChars);
  }
}

/** Stable JSON (sorted keys) hashed with SHA-256: the `'input'` idempotency strategy. */
export function hashInput(input: unknown): string {
  return createHash('sha256').update(stableJson(input)).digest('base64url').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
}

function asToolError(error: unknown, name: string, secrets: SkillExecutorOptions['secrets']): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  return new AgentrixError(
    'TOOL_FAILED',
    `Tool "${name}" failed: ${redactText(error instanceof Error ? error.message : String(error), secrets)}`,
    {
      cause: error,
      toolName: name,
    },
  );
}

/** The tool message for a failed call: code, message, retryable and details, redacted. */
function toolErrorMessage(call: ToolCall, error: AgentrixError, secrets: SkillExecutorOptions['secrets']): ToolMessage {
  const { code, message, details, retryable } = serializeError(error, { secrets });
  return {
    role: 'tool',
    toolCallId: call.id,
    name: call.name,
    content: JSON.stringify({ error: { code, message, retryable, ...(details ? { details } : {}) } }),
    isError: true,
  };
}
