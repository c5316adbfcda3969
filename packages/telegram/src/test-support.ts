// Test helpers free of vitest, so the crash tests' child scripts can use them too.
import type { ChatModel, ChatRequest, ChatStreamPart } from '@agentrix/core';
import type { MockLLM } from '@agentrix/testing';

/** A realistic-looking token for the fake Bot API (any token works there). */
export function testToken(botId = 4242): string {
  return `${botId}:AAF${Math.random().toString(36).slice(2).padEnd(12, 'x')}test-token_0123456789`;
}

/**
 * A model that streams its answer over time (the MockLLM yields every word at once): each text
 * part waits `gapMs` first, so a streamed answer spans several throttled edits.
 */
export class SlowStreamModel implements ChatModel {
  readonly name = 'slow-stream';
  readonly mock: MockLLM;
  readonly #gapMs: number;

  constructor(mock: MockLLM, gapMs: number) {
    this.mock = mock;
    this.#gapMs = gapMs;
  }

  generate(request: ChatRequest) {
    return this.mock.generate(request);
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatStreamPart, void, undefined> {
    for await (const part of this.mock.stream(request)) {
      if (part.type === 'text-delta') await new Promise((resolve) => setTimeout(resolve, this.#gapMs));
      yield part;
    }
  }
}
