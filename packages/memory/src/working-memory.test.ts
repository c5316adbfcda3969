import type { ChatMessage } from '@agentrix/core';
import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from './rank-fusion.js';
import { truncateText } from './text.js';
import { buildWorkingMemory, messageTokens } from './working-memory.js';

const conversation = (count: number): ChatMessage[] =>
  Array.from({ length: count }, (_, index) =>
    index % 2 === 0
      ? { role: 'user', content: `question ${index} ${'word '.repeat(10)}` }
      : { role: 'assistant', content: `answer ${index} ${'word '.repeat(10)}` },
  );

describe('working memory', () => {
  it('keeps the last N messages and the task state', () => {
    const working = buildWorkingMemory({
      messages: conversation(30),
      taskState: { step: 'review', open: 2 },
      maxMessages: 4,
      budgetTokens: 10_000,
    });
    expect(working.messages).toHaveLength(5);
    expect(working.messages[0]).toEqual({ role: 'system', content: 'Current task state:\n{"step":"review","open":2}' });
    expect(working.messages[1]?.content).toMatch(/^question 26/);
    expect(working.dropped).toBe(26);
  });

  it('fits the budget with the given token counter, newest message always kept', () => {
    const countTokens = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const messages = conversation(10);
    const one = messageTokens(messages[0]!, countTokens);
    const working = buildWorkingMemory({ messages, budgetTokens: one * 3 + 1, countTokens });
    expect(working.messages).toHaveLength(3);
    expect(working.tokens).toBeLessThanOrEqual(one * 3 + 1);
    const tiny = buildWorkingMemory({ messages, budgetTokens: 1, countTokens });
    expect(tiny.messages).toEqual([messages[9]]);
  });

  it('never starts with a tool result whose call was dropped', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'weather', content: '21' },
      { role: 'assistant', content: 'It is 21.' },
    ];
    const working = buildWorkingMemory({ messages, maxMessages: 2, budgetTokens: 1000 });
    expect(working.messages).toEqual([messages[3]]);
  });
});

describe('helpers', () => {
  it('truncates with a marker and leaves short text alone', () => {
    expect(truncateText('short', 100)).toEqual({ text: 'short', truncated: false });
    const cut = truncateText('a'.repeat(1000), 100);
    expect(cut.text.length).toBeLessThanOrEqual(100);
    expect(cut.text).toMatch(/…\[truncated \d+ characters\]$/);
  });

  it('fuses ranks: items in both lists win', () => {
    const fused = reciprocalRankFusion(
      [
        [{ id: 'a' }, { id: 'b' }],
        [{ id: 'b' }, { id: 'c' }],
      ],
      (item) => item.id,
    );
    expect(fused.map((item) => item.id)).toEqual(['b', 'a', 'c']);
  });
});
