import { type ChatResponse, type ChatStreamPart, serializeError } from '@agentrix/core';
import { responseCacheKey } from './cache-key.js';
import type { GatewayContext, Layer } from './call.js';

/**
 * The response cache layer: an exact-match cache keyed by {@link responseCacheKey}. A hit on a
 * streamed call replays as a stream (text, tool-call deltas, finish). Only complete answers
 * (`stop`, `tool_calls`) from the model the key was taken for are stored.
 */
export function cacheLayer(context: GatewayContext, ttlMs: number): Layer {
  const store = context.cacheStore!;
  const { events } = context;
  return async function* cache(call, next) {
    const key = responseCacheKey(call.model, call.request);
    const cached = await store.get(key);
    if (cached) {
      call.cacheHit = true;
      const response: ChatResponse = { ...cached, usage: { inputTokens: 0, outputTokens: 0 } };
      call.response = response;
      if (events.has('cache.hit'))
        events.emit('cache.hit', { callId: call.id, scope: call.scope, model: call.model, key });
      yield* replay(response, call.stream);
      return;
    }
    const model = call.model;
    for await (const part of next(call)) {
      if (
        part.type === 'finish' &&
        call.model === model &&
        (part.response.finishReason === 'stop' || part.response.finishReason === 'tool_calls')
      ) {
        try {
          await store.set(key, part.response, ttlMs);
        } catch (error) {
          context.logger?.warn(
            { callId: call.id, error: serializeError(error) },
            'gateway: could not store a response in the cache',
          );
        }
      }
      yield part;
    }
  };
}

async function* replay(response: ChatResponse, stream: boolean): AsyncGenerator<ChatStreamPart, void, undefined> {
  if (stream) {
    if (response.message.content !== '') yield { type: 'text-delta', text: response.message.content };
    const calls = response.message.toolCalls ?? [];
    for (let index = 0; index < calls.length; index++) {
      const call = calls[index]!;
      yield { type: 'tool-call-delta', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
    }
  }
  yield { type: 'finish', response };
}
