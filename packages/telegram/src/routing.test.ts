import { describe, expect, it } from 'vitest';
import { ChatRouter } from './routing.js';

describe('ChatRouter', () => {
  it('gives each chat (and forum topic) its own thread of the default agent', () => {
    const router = new ChatRouter('assistant', [], 'everyone');
    expect(router.route(7, undefined)).toEqual({ agentId: 'assistant', threadId: 'telegram:7' });
    expect(router.route(-100, 3)).toEqual({ agentId: 'assistant', threadId: 'telegram:-100:3' });
  });

  it('routes a topic, then a chat, to the agent and thread configured', () => {
    const router = new ChatRouter(
      'assistant',
      [
        { chatId: -100, agentId: 'support' },
        { chatId: -100, topicId: 5, agentId: 'sales', threadId: 'leads' },
      ],
      'everyone',
    );
    expect(router.route(-100, 5)).toEqual({ agentId: 'sales', threadId: 'leads' });
    expect(router.route(-100, 6)).toEqual({ agentId: 'support', threadId: 'telegram:-100:6' });
    expect(router.route(-100, undefined)).toEqual({ agentId: 'support', threadId: 'telegram:-100' });
  });

  it('is closed by default, and opens to listed users and chats', () => {
    expect(new ChatRouter('a', [], undefined).allows(7, 7)).toBe(false);
    const router = new ChatRouter('a', [], { users: [7], chats: [-100] });
    expect(router.allows(7, 7)).toBe(true);
    expect(router.allows(-200, 7)).toBe(true); // a listed user in any chat
    expect(router.allows(-100, 8)).toBe(true); // anyone in a listed chat
    expect(router.allows(8, 8)).toBe(false);
  });

  it('refuses bad routes with INVALID_ARGUMENT', () => {
    expect(() => new ChatRouter('bad id!', [], undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new ChatRouter('a', [{ chatId: 1.5 }], undefined)).toThrow(/integer chat id/);
    expect(() => new ChatRouter('a', [{ chatId: 1, threadId: 'no spaces' }], undefined)).toThrow(/threadId/);
    expect(() => new ChatRouter('a', [], 'all' as never)).toThrow(/allow list/);
  });
});
