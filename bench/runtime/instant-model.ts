import type { ChatModel, ChatRequest, ChatResponse, ChatStreamPart } from '@agentrix/core';

/** What the instant model asks for on the first step of a turn. */
export const TOOL_CALL_RESPONSE: ChatResponse = Object.freeze({
  message: {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_1', name: 'add', arguments: '{"a":2,"b":3}' }],
  },
  finishReason: 'tool_calls',
  usage: { inputTokens: 24, outputTokens: 12 },
  model: 'instant',
}) as ChatResponse;

/** What it answers once the tool result is in. */
export const FINAL_RESPONSE: ChatResponse = Object.freeze({
  message: { role: 'assistant', content: 'The sum is 5.' },
  finishReason: 'stop',
  usage: { inputTokens: 40, outputTokens: 6 },
  model: 'instant',
}) as ChatResponse;

/**
 * A model that answers at once, with no I/O, so a benchmark measures only the code around it.
 * It asks for the `add` tool unless the last message is a tool result, then gives the final
 * answer. Responses are precomputed and shared (runTurn never mutates them).
 */
export class InstantModel implements ChatModel {
  readonly name = 'bench/instant';

  respond(request: ChatRequest): ChatResponse {
    const last = request.messages[request.messages.length - 1];
    return last?.role === 'tool' ? FINAL_RESPONSE : TOOL_CALL_RESPONSE;
  }

  async generate(request: ChatRequest): Promise<ChatResponse> {
    return this.respond(request);
  }

  /**
   * One finish part, from a plain iterator rather than an `async *` generator: a generator's
   * object, frame and the promises of its `next` and `return` were 1.3 KB of garbage and about
   * 0.4 µs an ask, a cost of this model and not of the runtime (bench/runtime/README.md).
   */
  stream(request: ChatRequest): AsyncIterable<ChatStreamPart> {
    return new OnePart(this.respond(request) === FINAL_RESPONSE ? FINAL_PART : TOOL_CALL_PART);
  }
}

const TOOL_CALL_PART: ChatStreamPart = Object.freeze({ type: 'finish', response: TOOL_CALL_RESPONSE });
const FINAL_PART: ChatStreamPart = Object.freeze({ type: 'finish', response: FINAL_RESPONSE });
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A stream of one part; `return()` ends it early, as a generator's does. */
class OnePart implements AsyncIterableIterator<ChatStreamPart> {
  #part: ChatStreamPart | undefined;

  constructor(part: ChatStreamPart) {
    this.#part = part;
  }

  next(): Promise<IteratorResult<ChatStreamPart, undefined>> {
    const part = this.#part;
    this.#part = undefined;
    return Promise.resolve(part === undefined ? DONE : { done: false, value: part });
  }

  return(): Promise<IteratorResult<ChatStreamPart, undefined>> {
    this.#part = undefined;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
