import { describe, expect, it } from 'vitest';
import { addUsage, emptyUsage, isReplyInbox, REPLY_INBOX_PREFIX, UsageSchema } from './index.js';

describe('usage', () => {
  it('adds usage into the first argument, cached tokens and the estimate flag included', () => {
    const total = emptyUsage();
    expect(UsageSchema.parse(total)).toEqual({ inputTokens: 0, outputTokens: 0 });
    const returned = addUsage(total, { inputTokens: 10, outputTokens: 3 });
    expect(returned).toBe(total);
    addUsage(total, { inputTokens: 5, outputTokens: 2, cachedInputTokens: 4, estimated: true });
    addUsage(total, { inputTokens: 1, outputTokens: 1, cachedInputTokens: 1 });
    expect(total).toEqual({ inputTokens: 16, outputTokens: 6, cachedInputTokens: 5, estimated: true });
  });

  it('gives a fresh object each time, so adding to one total never changes another', () => {
    const a = emptyUsage();
    addUsage(a, { inputTokens: 1, outputTokens: 1 });
    expect(emptyUsage()).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});

describe('reply inboxes', () => {
  it('are the addresses under the host prefix', () => {
    expect(isReplyInbox(`${REPLY_INBOX_PREFIX}ask-1`)).toBe(true);
    expect(isReplyInbox('agent-1')).toBe(false);
    expect(isReplyInbox('hostile')).toBe(false);
  });
});
