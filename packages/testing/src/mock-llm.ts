import {
  AgentrixError,
  abortError,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '@agentrix/core';

declare module '@agentrix/core' {
  interface AgentrixErrorCodeExtensions {
    /** A MockLLM with no step left and no fallback: a system error, not retryable, so a turn fails at once. */
    MOCK_SCRIPT_EXHAUSTED: true;
  }
}

/** A request as {@link MockLLM} records it: the {@link ChatRequest} without its `signal`. */
export type MockRequest = Omit<ChatRequest, 'signal'>;

/** Fields every answering step may carry. */
interface MockAnswerFields {
  /** Token usage to report. Missing fields are estimated (about 4 characters a token, at least 1). */
  usage?: Partial<Usage>;
  /** Defaults to `tool_calls` when the step has tool calls, else `stop`. */
  finishReason?: FinishReason;
  /** How `stream` splits the text; must join to the text. Default: word-sized pieces. */
  chunks?: string[];
  /** Wait this long (real timers) before answering; `request.signal` aborts the wait. Default: no wait, no timer. */
  delayMs?: number;
  /** The `model` reported in the response. Default: the MockLLM's name. */
  model?: string;
}

/** A plain text answer. */
export interface MockTextStep extends MockAnswerFields {
  text: string;
}

/** One tool call of a {@link MockToolCallsStep}. */
export interface MockToolCall {
  name: string;
  /** A non-string value is `JSON.stringify`d; a string is sent raw, so tests can send invalid JSON. */
  arguments: unknown;
  /** Default: `call_<n>`, counted per MockLLM from 1. */
  id?: string;
}

/** An answer that asks for tool calls, with optional text alongside. */
export interface MockToolCallsStep extends MockAnswerFields {
  toolCalls: MockToolCall[];
  text?: string;
}

/** A failing call: `generate` rejects with `error`, `stream` throws it on the first iteration. */
export interface MockErrorStep {
  error: unknown;
  /** Wait this long (real timers) before failing; `request.signal` aborts the wait. */
  delayMs?: number;
}

/**
 * Computes the step from the request. `index` is the 0-based number of the call (how many calls
 * came before it). The request is the frozen record when recording is on.
 */
export type MockResponder = (request: MockRequest, index: number) => MockStep | Promise<MockStep>;

/** One scripted answer of {@link MockLLM}. */
export type MockStep = MockTextStep | MockToolCallsStep | MockErrorStep | MockResponder;

export interface MockLLMOptions {
  /** Steps answered in order, one per call. */
  script?: MockStep[];
  /** Used for every call once the script is used up. Default: none, so such a call throws `MOCK_SCRIPT_EXHAUSTED`. */
  fallback?: MockStep;
  /** The model name, also reported as the response's `model`. Default `'mock'`. */
  name?: string;
  /** Keep frozen copies of the requests in `requests`. Default `true`; turn off in benchmarks. */
  record?: boolean;
}

const MAX_RESPONDER_DEPTH = 16;

/**
 * A scripted {@link ChatModel} for tests: each call answers with the next step of a queue (text,
 * tool calls, an error, or a function of the request), then the fallback, and records every
 * request as a frozen copy.
 *
 * ```ts
 * const model = new MockLLM({
 *   script: [{ toolCalls: [{ name: 'search', arguments: { q: 'weather' } }] }, { text: 'Sunny.' }],
 * });
 * ```
 */
export class MockLLM implements ChatModel {
  readonly name: string;
  /** The step used when the queue is empty; may be changed between calls. */
  fallback: MockStep | undefined;

  readonly #record: boolean;
  #queue: MockStep[];
  #head = 0;
  #scripted: number;
  #calls = 0;
  #toolCallIds = 0;
  #requests: MockRequest[] = [];

  constructor(options: MockLLMOptions = {}) {
    this.name = options.name ?? 'mock';
    this.fallback = options.fallback;
    this.#record = options.record ?? true;
    this.#queue = options.script ? [...options.script] : [];
    this.#scripted = this.#queue.length;
  }

  /** A text step. */
  static text(text: string, extra: Omit<MockTextStep, 'text'> = {}): MockTextStep {
    return { ...extra, text };
  }

  /** A step with one tool call. */
  static toolCall(
    name: string,
    args: unknown,
    extra: Omit<MockToolCallsStep, 'toolCalls'> & { id?: string } = {},
  ): MockToolCallsStep {
    const { id, ...rest } = extra;
    return { ...rest, toolCalls: [id === undefined ? { name, arguments: args } : { name, arguments: args, id }] };
  }

  /** A failing step. */
  static error(error: unknown): MockErrorStep {
    return { error };
  }

  /** Appends steps to the queue. Returns `this` for chaining. */
  push(...steps: MockStep[]): this {
    this.#queue.push(...steps);
    this.#scripted += steps.length;
    return this;
  }

  /** Frozen deep copies of every request, oldest first (empty when `record: false`). */
  get requests(): readonly MockRequest[] {
    return this.#requests;
  }

  /** The most recent recorded request. */
  get lastRequest(): MockRequest | undefined {
    return this.#requests[this.#requests.length - 1];
  }

  /** How many calls reached the model (counted even with `record: false`). */
  get calls(): number {
    return this.#calls;
  }

  /** How many scripted steps are still queued (the fallback not counted). */
  get remaining(): number {
    return this.#queue.length - this.#head;
  }

  /** Clears the queue, the records, the call count and the tool-call id counter. Keeps the fallback. */
  reset(): void {
    this.#queue = [];
    this.#head = 0;
    this.#scripted = 0;
    this.#calls = 0;
    this.#toolCallIds = 0;
    this.#requests = [];
  }

  async generate(request: ChatRequest): Promise<ChatResponse> {
    const step = await this.#nextStep(request);
    if (step.delayMs !== undefined && step.delayMs > 0) await delay(step.delayMs, request.signal);
    if ('error' in step) throw step.error;
    return this.#respond(request, step).response;
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatStreamPart, void, undefined> {
    const step = await this.#nextStep(request);
    if (step.delayMs !== undefined && step.delayMs > 0) await delay(step.delayMs, request.signal);
    if ('error' in step) throw step.error;
    const { response, chunks } = this.#respond(request, step);
    const signal = request.signal;
    for (const text of chunks) {
      if (signal?.aborted) throw abortError(signal, 'model call');
      yield { type: 'text-delta', text };
    }
    const toolCalls = response.message.toolCalls ?? [];
    for (let index = 0; index < toolCalls.length; index++) {
      if (signal?.aborted) throw abortError(signal, 'model call');
      const call = toolCalls[index]!;
      yield { type: 'tool-call-delta', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
    }
    if (signal?.aborted) throw abortError(signal, 'model call');
    yield { type: 'finish', response };
  }

  /** Records the request and resolves the step for this call (responders included). */
  async #nextStep(request: ChatRequest): Promise<MockTextStep | MockToolCallsStep | MockErrorStep> {
    if (request.signal?.aborted) throw abortError(request.signal, 'model call');
    const index = this.#calls++;
    let seen: MockRequest = request;
    if (this.#record) {
      seen = frozenCopy(request);
      this.#requests.push(seen);
    }
    let step: MockStep | undefined;
    if (this.#head < this.#queue.length) {
      step = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined as unknown as MockStep;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
    } else {
      step = this.fallback;
    }
    if (step === undefined) throw this.#exhausted(request, index);
    for (let depth = 0; typeof step === 'function'; depth++) {
      if (depth >= MAX_RESPONDER_DEPTH) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          `MockLLM "${this.name}": a responder function kept returning functions ${MAX_RESPONDER_DEPTH} times; return a text, toolCalls or error step`,
        );
      }
      step = await step(seen, index);
    }
    if (step === null || typeof step !== 'object') {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `MockLLM "${this.name}": call #${index + 1} got ${String(step)} as its step; expected an object with text, toolCalls or error`,
      );
    }
    return step;
  }

  #exhausted(request: ChatRequest, index: number): AgentrixError {
    const lastUserMessage = findLastUserMessage(request);
    const shown = lastUserMessage === undefined ? '(none)' : JSON.stringify(truncate(lastUserMessage, 200));
    return new AgentrixError(
      'MOCK_SCRIPT_EXHAUSTED',
      `MockLLM "${this.name}" has no step for call #${index + 1}: ${this.#scripted} ${
        this.#scripted === 1 ? 'call was' : 'calls were'
      } scripted and no fallback is set. Last user message: ${shown}. Push more steps with push(...) or set a fallback.`,
      { details: { calls: index + 1, scripted: this.#scripted, lastUserMessage } },
    );
  }

  #respond(request: ChatRequest, step: MockTextStep | MockToolCallsStep): { response: ChatResponse; chunks: string[] } {
    const text = step.text ?? '';
    let toolCalls: ToolCall[] | undefined;
    if ('toolCalls' in step && step.toolCalls.length > 0) {
      toolCalls = step.toolCalls.map((call) => ({
        id: call.id ?? `call_${++this.#toolCallIds}`,
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : (JSON.stringify(call.arguments) ?? 'null'),
      }));
    }
    const chunks = step.chunks ?? splitWords(text);
    if (step.chunks && step.chunks.join('') !== text) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `MockLLM "${this.name}": the step's chunks join to ${JSON.stringify(truncate(step.chunks.join(''), 80))} but its text is ${JSON.stringify(truncate(text, 80))}; make the chunks join to the text`,
      );
    }
    const response: ChatResponse = {
      message: toolCalls ? { role: 'assistant', content: text, toolCalls } : { role: 'assistant', content: text },
      finishReason: step.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
      usage: usageFor(request, text, toolCalls, step.usage),
      model: step.model ?? this.name,
    };
    return { response, chunks };
  }
}

/** Splits text into word-sized pieces that keep their whitespace, so the pieces join to the text. */
function splitWords(text: string): string[] {
  if (text === '') return [];
  return text.match(/\s*\S+\s*/g) ?? [text];
}

function usageFor(
  request: ChatRequest,
  text: string,
  toolCalls: ToolCall[] | undefined,
  given: Partial<Usage> | undefined,
): Usage {
  let inputTokens = given?.inputTokens;
  if (inputTokens === undefined) {
    let chars = 0;
    for (const message of request.messages) chars += message.content.length;
    inputTokens = Math.max(1, Math.ceil(chars / 4));
  }
  let outputTokens = given?.outputTokens;
  if (outputTokens === undefined) {
    let chars = text.length;
    if (toolCalls) for (const call of toolCalls) chars += call.arguments.length;
    outputTokens = Math.max(1, Math.ceil(chars / 4));
  }
  const usage: Usage = { inputTokens, outputTokens };
  if (given?.cachedInputTokens !== undefined) usage.cachedInputTokens = given.cachedInputTokens;
  if (given?.estimated !== undefined) usage.estimated = given.estimated;
  return usage;
}

function findLastUserMessage(request: ChatRequest): string | undefined {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role === 'user') return message.content;
  }
  return undefined;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** Waits on a real timer; rejects with ABORTED when the signal fires first. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal, 'model call'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal, 'model call'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A deep copy of the request without `signal`, frozen all the way down (plain objects and arrays). */
function frozenCopy(request: ChatRequest): MockRequest {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(request)) {
    if (key === 'signal') continue;
    copy[key] = deepFrozenCopy((request as unknown as Record<string, unknown>)[key]);
  }
  return Object.freeze(copy) as unknown as MockRequest;
}

function deepFrozenCopy(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(deepFrozenCopy(item, seen));
    return Object.freeze(copy);
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const key of Object.keys(value)) copy[key] = deepFrozenCopy((value as Record<string, unknown>)[key], seen);
  return Object.freeze(copy);
}
