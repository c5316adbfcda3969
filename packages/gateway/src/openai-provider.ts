import {
  AgentrixError,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  type Clock,
  type Embedder,
  parseWith,
  systemClock,
  type ToolCall,
  throwIfAborted,
  type Usage,
} from '@agentrix/core';
import OpenAI from 'openai';
import type { EmbeddingResult, UsageReportingEmbedder } from './gateway-embedder.js';
import { malformedAnswerUsage } from './malformed-answer.js';
import { toFinishReason, toOpenAIParams, toUsage } from './openai-messages.js';
import { type OpenAIProviderOptions, OpenAIProviderOptionsSchema } from './openai-provider-options.js';
import { invalidResponse, mapProviderError } from './provider-errors.js';
import { countPromptTokens, countTextTokens } from './tokens.js';

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

/**
 * The OpenAI chat completions and embeddings API (or any compatible server, through `baseURL`)
 * as a {@link ChatModel} and an {@link Embedder}.
 *
 * - `request.model` picks the model (default: the `model` option); `providerOptions` are sent as is.
 * - The `openai` client's own retries are off: retrying is the caller's job (the gateway's retry
 *   layer, the runtime's model retry), so a 429's `retry-after` reaches them as `retryAfterMs`.
 * - Every failure is an {@link AgentrixError}, scrubbed of this provider's API key, URL password
 *   and credential headers through its whole cause chain; a body that does not parse is
 *   `MODEL_RESPONSE_INVALID` with the raw body in `details.rawBody` (secrets redacted) and what
 *   the answer used in `details.partialUsage` (the provider bills it).
 * - A stream that ends without a finish reason throws `MODEL_RESPONSE_INVALID` (never an empty
 *   success); a stream without a usage chunk reports a locally counted usage marked `estimated`.
 */
export class OpenAIProvider implements ChatModel, UsageReportingEmbedder {
  readonly name: string;
  readonly dimensions: number;
  readonly model: string;
  readonly embeddingModel: string;
  readonly #client: OpenAI;
  readonly #clock: Clock;
  readonly #maxTokensField: 'max_tokens' | 'max_completion_tokens';
  readonly #sendDimensions: boolean;
  readonly #secrets: string[];

  constructor(options: OpenAIProviderOptions = {}) {
    const { client, clock, ...rest } = options;
    const parsed = parseWith(OpenAIProviderOptionsSchema, rest, 'INVALID_ARGUMENT', 'OpenAIProvider options');
    this.name = parsed.name;
    this.model = parsed.model;
    this.embeddingModel = parsed.embeddingModel;
    this.dimensions = parsed.embeddingDimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
    this.#sendDimensions = parsed.embeddingDimensions !== undefined;
    this.#clock = clock ?? systemClock;
    this.#maxTokensField =
      parsed.maxTokensField ?? (parsed.baseURL || process.env.OPENAI_BASE_URL ? 'max_tokens' : 'max_completion_tokens');
    if (client) {
      this.#client = client;
    } else {
      const apiKey = parsed.apiKey ?? process.env.OPENAI_API_KEY;
      if (!apiKey) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          'OpenAIProvider needs an API key: pass `apiKey` or set OPENAI_API_KEY (any non-empty value for a local server)',
        );
      }
      this.#client = new OpenAI({
        apiKey,
        maxRetries: 0,
        timeout: parsed.timeoutMs,
        ...(parsed.baseURL ? { baseURL: parsed.baseURL } : {}),
        ...(parsed.organization ? { organization: parsed.organization } : {}),
        ...(parsed.project ? { project: parsed.project } : {}),
        ...(parsed.headers ? { defaultHeaders: parsed.headers } : {}),
      });
    }
    this.#secrets = providerSecrets(parsed, process.env);
  }

  async generate(request: ChatRequest): Promise<ChatResponse> {
    const model = request.model ?? this.model;
    const source = `${this.name}/${model}`;
    throwIfAborted(request.signal, `call to ${source}`);
    const params = toOpenAIParams(request, model, this.#maxTokensField);
    let raw: string;
    try {
      const response = await this.#client.chat.completions
        .create(params, request.signal ? { signal: request.signal } : undefined)
        .asResponse();
      raw = await response.text();
    } catch (error) {
      throw this.#mapError(error, source, request.signal);
    }
    let body: OpenAI.Chat.ChatCompletion;
    try {
      body = JSON.parse(raw) as OpenAI.Chat.ChatCompletion;
    } catch (error) {
      throw invalidResponse(source, 'the body is not JSON', raw, {
        secrets: this.#secrets,
        cause: error,
        partialUsage: malformedAnswerUsage(request, raw),
      });
    }
    const choice = Array.isArray(body?.choices) ? body.choices[0] : undefined;
    if (!choice?.message || typeof choice.message !== 'object') {
      throw invalidResponse(source, 'no choices[0].message', raw, {
        secrets: this.#secrets,
        partialUsage: malformedAnswerUsage(request, raw, body),
      });
    }
    const toolCalls: ToolCall[] = [];
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== 'function' || typeof call.function?.name !== 'string') continue;
      toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' });
    }
    const content = typeof choice.message.content === 'string' ? choice.message.content : '';
    const usage = toUsage(body.usage) ?? estimateUsage(request, content, toolCalls);
    return {
      message: toolCalls.length > 0 ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content },
      finishReason: toFinishReason(choice.finish_reason),
      usage,
      model: typeof body.model === 'string' ? body.model : model,
    };
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatStreamPart, void, undefined> {
    const model = request.model ?? this.model;
    const source = `${this.name}/${model}`;
    throwIfAborted(request.signal, `call to ${source}`);
    const chunks = await this.#openStream(request, model, source);
    let text = '';
    const calls: StreamedToolCall[] = [];
    let finishReason: string | null | undefined;
    let usage: Usage | undefined;
    let answeredModel = model;
    try {
      for await (const chunk of chunks) {
        if (typeof chunk?.model === 'string' && chunk.model) answeredModel = chunk.model;
        const chunkUsage = toUsage(chunk?.usage);
        if (chunkUsage) usage = chunkUsage;
        const choice = chunk?.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta;
        if (typeof delta?.content === 'string' && delta.content !== '') {
          text += delta.content;
          yield { type: 'text-delta', text: delta.content };
        }
        for (const call of delta?.tool_calls ?? []) yield addToolCallDelta(calls, call);
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (error) {
      const mapped = this.#mapError(error, source, request.signal);
      if (mapped.code === 'ABORTED') throw mapped;
      throw new AgentrixError(mapped.code, `The stream from ${source} broke off: ${mapped.message}`, {
        cause: mapped,
        retryable: mapped.isRetryable,
        details: { ...mapped.details, partialUsage: estimateUsage(request, text, calls) },
        ...(mapped.retryAfterMs === undefined ? {} : { retryAfterMs: mapped.retryAfterMs }),
      });
    }
    const toolCalls: ToolCall[] = calls
      .filter((call) => call !== undefined)
      .map((call, index) => ({ id: call.id || `call_${index}`, name: call.name, arguments: call.arguments }));
    if (!finishReason) {
      throw new AgentrixError(
        'MODEL_RESPONSE_INVALID',
        `The stream from ${source} ended without a finish reason after ${text.length} characters: it was cut off or malformed`,
        { retryable: true, details: { partialUsage: estimateUsage(request, text, toolCalls) } },
      );
    }
    yield {
      type: 'finish',
      response: {
        message:
          toolCalls.length > 0 ? { role: 'assistant', content: text, toolCalls } : { role: 'assistant', content: text },
        finishReason: toFinishReason(finishReason),
        usage: usage ?? estimateUsage(request, text, toolCalls),
        model: answeredModel,
      },
    };
  }

  /** Sends a streamed request; a reply that is not an event stream is `MODEL_RESPONSE_INVALID` (and billed). */
  async #openStream(
    request: ChatRequest,
    model: string,
    source: string,
  ): Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk>> {
    const params = toOpenAIParams(request, model, this.#maxTokensField);
    try {
      const { data, response } = await this.#client.chat.completions
        .create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          request.signal ? { signal: request.signal } : undefined,
        )
        .withResponse();
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.includes('text/event-stream')) {
        const raw = await response.text();
        throw invalidResponse(source, `expected an event stream, got "${contentType || 'no content type'}"`, raw, {
          secrets: this.#secrets,
          partialUsage: malformedAnswerUsage(request, raw),
        });
      }
      return data;
    } catch (error) {
      throw this.#mapError(error, source, request.signal);
    }
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  /**
   * {@link embed} with the input tokens the server reported (`usage.prompt_tokens`), absent when
   * it reported none (or 0 for non-empty input): the gateway's metered embedder counts them then.
   */
  async embedWithUsage(texts: string[], options: { signal?: AbortSignal } = {}): Promise<EmbeddingResult> {
    if (texts.length === 0) return { vectors: [] };
    const source = `${this.name}/${this.embeddingModel}`;
    throwIfAborted(options.signal, `call to ${source}`);
    let raw: string;
    try {
      const response = await this.#client.embeddings
        .create(
          {
            model: this.embeddingModel,
            input: texts,
            encoding_format: 'float',
            ...(this.#sendDimensions ? { dimensions: this.dimensions } : {}),
          },
          options.signal ? { signal: options.signal } : undefined,
        )
        .asResponse();
      raw = await response.text();
    } catch (error) {
      throw this.#mapError(error, source, options.signal);
    }
    let body: OpenAI.CreateEmbeddingResponse;
    try {
      body = JSON.parse(raw) as OpenAI.CreateEmbeddingResponse;
    } catch (error) {
      throw invalidResponse(source, 'the body is not JSON', raw, { secrets: this.#secrets, cause: error });
    }
    const vectors: number[][] = new Array(texts.length);
    for (const item of Array.isArray(body?.data) ? body.data : []) {
      if (typeof item?.index === 'number' && Array.isArray(item.embedding)) vectors[item.index] = item.embedding;
    }
    for (let index = 0; index < texts.length; index++) {
      const vector = vectors[index];
      if (!vector) throw invalidResponse(source, `no embedding for input #${index}`, raw, { secrets: this.#secrets });
      if (vector.length !== this.dimensions) {
        throw invalidResponse(
          source,
          `embedding #${index} has ${vector.length} dimensions, expected ${this.dimensions} (set embeddingDimensions)`,
          raw,
          { secrets: this.#secrets },
        );
      }
    }
    const promptTokens = body.usage?.prompt_tokens;
    return typeof promptTokens === 'number' && promptTokens > 0
      ? { vectors, usage: { inputTokens: promptTokens } }
      : { vectors };
  }

  #mapError(error: unknown, source: string, signal: AbortSignal | undefined): AgentrixError {
    return mapProviderError(error, { source, signal, now: this.#clock.now(), secrets: this.#secrets });
  }
}

/** Header names whose values are credentials (Azure's `api-key`, a proxy's token). */
const SECRET_HEADER = /authorization|api[-_]?key|token|secret|password/i;

/**
 * What this provider must never let reach an error, a log or a stored row: its API key (which may
 * look like anything), the password of a baseURL with `user:password@`, and credential headers.
 */
function providerSecrets(
  options: { apiKey?: string | undefined; baseURL?: string | undefined; headers?: Record<string, string> | undefined },
  env: NodeJS.ProcessEnv,
): string[] {
  const secrets = [options.apiKey, env.OPENAI_API_KEY];
  for (const url of [options.baseURL, env.OPENAI_BASE_URL]) {
    if (!url || !URL.canParse(url)) continue;
    const { password } = new URL(url);
    if (password) secrets.push(password, safeDecode(password));
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (SECRET_HEADER.test(name)) secrets.push(value, value.replace(/^(bearer|basic|token)\s+/i, ''));
  }
  return secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Usage counted locally (marked `estimated`) when the provider reported none. */
export function estimateUsage(
  request: ChatRequest,
  text: string,
  toolCalls: readonly { name: string; arguments: string }[],
): Usage {
  let outputTokens = countTextTokens(text);
  for (const call of toolCalls) {
    if (call) outputTokens += countTextTokens(call.name) + countTextTokens(call.arguments);
  }
  return { inputTokens: countPromptTokens(request), outputTokens, estimated: true };
}

/** A tool call being put together from stream deltas. */
interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Adds one streamed tool-call delta to its call (by index) and returns the part to pass on. */
function addToolCallDelta(
  calls: StreamedToolCall[],
  delta: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall,
): ChatStreamPart {
  const index = delta.index ?? 0;
  let slot = calls[index];
  if (!slot) {
    slot = { id: '', name: '', arguments: '' };
    calls[index] = slot;
  }
  if (delta.id) slot.id = delta.id;
  if (delta.function?.name) slot.name += delta.function.name;
  const argumentsDelta = delta.function?.arguments ?? '';
  slot.arguments += argumentsDelta;
  const part: ChatStreamPart = { type: 'tool-call-delta', index, argumentsDelta };
  if (delta.id) part.id = delta.id;
  if (delta.function?.name) part.name = delta.function.name;
  return part;
}
