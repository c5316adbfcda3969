import { describe, expect, it } from 'vitest';
import type { ChatMessage } from './chat.js';
import { historyWindow } from './history-window.js';

const user = (content: string): ChatMessage => ({ role: 'user', content });
const answer = (content: string): ChatMessage => ({ role: 'assistant', content });
const calls = (...ids: string[]): ChatMessage => ({
  role: 'assistant',
  content: '',
  toolCalls: ids.map((id) => ({ id, name: 't', arguments: '{}' })),
});
const result = (id: string): ChatMessage => ({ role: 'tool', toolCallId: id, name: 't', content: id });
// One token per message: the budget reads as a message count.
const one = () => 1;

describe('historyWindow', () => {
  it('keeps everything within the limits, and nothing with maxMessages 0', () => {
    const messages = [user('1'), answer('2'), user('3')];
    expect(historyWindow(messages, {})).toEqual({ start: 0, tokens: 0 });
    expect(historyWindow(messages, { maxMessages: 3 })).toEqual({ start: 0, tokens: 0 });
    expect(historyWindow(messages, { maxTokens: 3, countTokens: one })).toEqual({ start: 0, tokens: 3 });
    expect(historyWindow(messages, { maxMessages: 0 })).toEqual({ start: 3, tokens: 0 });
    expect(historyWindow([], { maxMessages: 2, maxTokens: 0, countTokens: one })).toEqual({ start: 0, tokens: 0 });
  });

  it('drops the oldest first, by count and by tokens, whichever cuts more', () => {
    const messages = [user('1'), answer('2'), user('3'), answer('4')];
    expect(historyWindow(messages, { maxMessages: 2 }).start).toBe(2);
    expect(historyWindow(messages, { maxTokens: 3, countTokens: one })).toEqual({ start: 1, tokens: 3 });
    expect(historyWindow(messages, { maxMessages: 3, maxTokens: 2, countTokens: one })).toEqual({
      start: 2,
      tokens: 2,
    });
    expect(historyWindow(messages, { maxMessages: 1, maxTokens: 3, countTokens: one })).toEqual({
      start: 3,
      tokens: 1,
    });
  });

  it('cuts only where a turn starts: an assistant call goes with its tool results', () => {
    const messages = [user('q'), calls('a', 'b'), result('a'), result('b'), answer('done')];
    // The count cut falls on a tool result: the window starts at the next turn.
    expect(historyWindow(messages, { maxMessages: 3 }).start).toBe(4);
    expect(historyWindow(messages, { maxMessages: 4 }).start).toBe(1);
    expect(historyWindow(messages, { maxTokens: 3, countTokens: one })).toEqual({ start: 4, tokens: 1 });
    expect(historyWindow(messages, { maxTokens: 4, countTokens: one })).toEqual({ start: 1, tokens: 4 });
    // Tool results that open the history are its first turn as the caller has it.
    expect(historyWindow([result('x'), user('q')], { maxTokens: 5, countTokens: one }).start).toBe(0);
  });

  it('keeps the newest turn over the token budget, never over maxMessages', () => {
    const messages = [user('q'), calls('a', 'b'), result('a'), result('b')];
    expect(historyWindow(messages, { maxTokens: 1, countTokens: one })).toEqual({ start: 1, tokens: 3 });
    expect(historyWindow(messages, { maxTokens: 0, countTokens: () => 5 })).toEqual({ start: 1, tokens: 15 });
    expect(historyWindow(messages, { maxMessages: 2, maxTokens: 100, countTokens: one }).start).toBe(4);
    expect(historyWindow(messages, { maxMessages: 2 }).start).toBe(4);
  });

  it('counts each message once, and only with a token budget', () => {
    const counted: ChatMessage[] = [];
    const count = (message: ChatMessage) => {
      counted.push(message);
      return 1;
    };
    const messages = [user('1'), answer('2'), user('3'), answer('4')];
    historyWindow(messages, { maxMessages: 2, countTokens: count });
    expect(counted).toEqual([]);
    historyWindow(messages, { maxTokens: 2, countTokens: count });
    expect(counted).toEqual([answer('4'), user('3'), answer('2')]);
  });
});
