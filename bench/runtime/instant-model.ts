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

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamPart> {
    yield { type: 'finish', response: this.respond(request) };
  }
}
