import type { ChatMessage } from '@agentrix/core';
import { systemClock } from '@agentrix/core';
import { describe, expect, it } from 'vitest';
import { ContextManager, trimHistory, upgradeContext } from './context-manager.js';
import v1 from './fixtures/context-v1.json' with { type: 'json' };
import { InMemoryContextStore } from './in-memory-context-store.js';

const user = (content: string): ChatMessage => ({ role: 'user', content });

describe('trimHistory', () => {
  it('keeps the newest messages', () => {
    const messages = [user('1'), user('2'), user('3')];
    expect(trimHistory(messages, 2)).toEqual([user('2'), user('3')]);
    expect(trimHistory(messages, 5)).toBe(messages);
  });

  it('never starts on an orphaned tool result', () => {
    const messages: ChatMessage[] = [
      user('q'),
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 't', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', name: 't', content: '1' },
      { role: 'assistant', content: 'done' },
    ];
    expect(trimHistory(messages, 2)).toEqual([{ role: 'assistant', content: 'done' }]);
  });
});

describe('ContextManager', () => {
  it('appends, trims and saves; a context a host saves is copied', async () => {
    const store = new InMemoryContextStore();
    const contexts = new ContextManager(store, systemClock);
    const first = await contexts.load('a1');
    expect(first.messages).toEqual([]);
    await contexts.append(first, [user('1'), user('2'), user('3')], 2);
    const loaded = await contexts.load('a1');
    expect(loaded).toMatchObject({ turns: 1, messages: [user('2'), user('3')] });
    // The turn's input array is not the stored one.
    expect(first.messages).toEqual([]);
    // A context a host saves itself is copied: changing it afterwards changes nothing stored.
    const own = { ...loaded, messages: [user('own')], state: {} };
    await store.save(own);
    own.messages.push(user('later'));
    expect((await contexts.load('a1')).messages).toEqual([user('own')]);
    await contexts.append(await contexts.load('a1'), [user('next')], 10);
    expect((await contexts.load('a1')).messages).toEqual([user('own'), user('next')]);
  });

  it('saves to the in-process store at once, and through the promise of any other store', async () => {
    const store = new InMemoryContextStore();
    const contexts = new ContextManager(store, systemClock);
    // Read at once, too: no promise from the in-process store.
    const first = contexts.loadForTurn('a1', 'main');
    expect(first).not.toBeInstanceOf(Promise);
    if (first instanceof Promise) return;
    // Nothing to wait for: the context is stored when append returns.
    expect(contexts.append(first, [user('1')], 10, 42)).toBeUndefined();
    expect(store.get('a1', 'main')).toMatchObject({ turns: 1, updatedAt: 42, messages: [user('1')] });
    expect(await store.load('a1', 'main')).toBe(store.get('a1', 'main'));

    // A store of another kind (here one that wraps the in-process store) is saved through its promise.
    const saved: unknown[] = [];
    const other = new ContextManager(
      {
        load: (agentId, threadId) => store.load(agentId, threadId),
        save: async (context) => {
          saved.push(context);
        },
        delete: (agentId, threadId) => store.delete(agentId, threadId),
        threads: (agentId) => store.threads(agentId),
      },
      systemClock,
    );
    expect(other.loadForTurn('a1', 'main')).toBeInstanceOf(Promise);
    const saving = other.append(await other.load('a1'), [user('2')], 10);
    expect(saving).toBeInstanceOf(Promise);
    await saving;
    expect(saved).toEqual([expect.objectContaining({ turns: 2, messages: [user('1'), user('2')] })]);
    expect(store.get('a1', 'main')?.turns).toBe(1);
  });

  it('loads every fixture of an old version and rejects unknown versions', () => {
    expect(upgradeContext(v1).messages).toHaveLength(2);
    expect(() => upgradeContext({ ...v1, version: 99 })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_CONTEXT_VERSION' }),
    );
    expect(() => upgradeContext({ version: 1 })).toThrow(/invalid/);
  });
});
