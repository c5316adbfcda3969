import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type AgentContext, type AgentSpec, CONTEXT_VERSION } from '@agentrix/core';
import { upgradeContext } from '@agentrix/runtime';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { SqlAgentRegistry } from './sql-agent-registry.js';
import { SqlContextStore } from './sql-context-store.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';
import { storeMigrations } from './store-migrations.js';
import { storeKysely } from './store-tables.js';

/** Every context version ever released, with the fixture that proves it still loads. */
const CONTEXT_FIXTURES: { version: number; file: string }[] = [
  { version: 1, file: 'context-v1.json' },
  { version: 2, file: 'context-v2.json' },
];

function id(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function spec(agentId: string, extra: Partial<AgentSpec> = {}): AgentSpec {
  return {
    id: agentId,
    name: agentId,
    instructions: 'be helpful',
    model: 'default',
    tools: [],
    maxConcurrentThreads: 4,
    maxSteps: 8,
    turnTimeoutMs: 120_000,
    maxHistory: 50,
    stream: true,
    modelRetry: { attempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 },
    groups: [],
    metadata: { team: 'blue' },
    ...extra,
  };
}

/** The durable ContextStore, AgentRegistry and IdempotencyStore, against a migrated database. */
export function storesContract(
  name: string,
  getDatabase: () => Database,
  openFresh: () => Promise<{ database: Database; dispose(): Promise<void> }>,
): void {
  describe(`SqlContextStore: ${name}`, () => {
    it('saves, loads, replaces and deletes a context', async () => {
      const store = new SqlContextStore({ database: getDatabase() });
      const agentId = id('agent');
      expect(await store.load(agentId, 'main')).toBeUndefined();
      const context: AgentContext = {
        version: CONTEXT_VERSION,
        agentId,
        threadId: 'main',
        messages: [
          { role: 'user', content: 'héllo 🌍', name: 'host' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }],
          },
          { role: 'tool', toolCallId: 'call_1', content: '{"answer":42}' },
        ] as AgentContext['messages'],
        state: { step: 2, plan: ['a', 'b'], nested: { ok: true } },
        turns: 1,
        updatedAt: 1_760_000_000_123,
      };
      await store.save(context);
      expect(await store.load(agentId, 'main')).toEqual(context);
      const next = { ...context, turns: 2, messages: context.messages.slice(0, 1), updatedAt: context.updatedAt + 1 };
      await store.save(next);
      expect(await store.load(agentId, 'main')).toEqual(next);
      expect(await store.delete(agentId, 'main')).toBe(1);
      expect(await store.load(agentId, 'main')).toBeUndefined();
      await expect(store.delete(agentId, 'main')).resolves.toBe(0);
    });

    it('keeps one context per thread, lists threads newest first, forgets one or all', async () => {
      const store = new SqlContextStore({ database: getDatabase() });
      const agentId = id('agent');
      const at = (threadId: string, updatedAt: number, turns: number): AgentContext => ({
        version: CONTEXT_VERSION,
        agentId,
        threadId,
        messages: [{ role: 'user', content: `in ${threadId}` }],
        state: {},
        turns,
        updatedAt,
      });
      await store.save(at('chat:1', 10, 1));
      await store.save(at('chat:2', 30, 4));
      await store.save(at('main', 20, 2));
      await store.save({ ...at('main', 1, 1), agentId: id('other') });
      expect((await store.load(agentId, 'chat:1'))?.messages[0]?.content).toBe('in chat:1');
      expect(await store.threads(agentId)).toEqual([
        { threadId: 'chat:2', turns: 4, updatedAt: 30 },
        { threadId: 'main', turns: 2, updatedAt: 20 },
        { threadId: 'chat:1', turns: 1, updatedAt: 10 },
      ]);
      expect((await store.threads(agentId, { limit: 1 })).map((thread) => thread.threadId)).toEqual(['chat:2']);
      await expect(store.threads(agentId, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await store.delete(agentId, 'chat:2')).toBe(1);
      expect(await store.load(agentId, 'chat:2')).toBeUndefined();
      expect(await store.delete(agentId)).toBe(2);
      expect(await store.threads(agentId)).toEqual([]);
    });

    it("migrates contexts stored before threads to their agent's main thread", async () => {
      const fresh = await openFresh();
      try {
        const { database } = fresh;
        const before = storeMigrations.findIndex((migration) => migration.name === '0008_store_context_threads');
        await database.migrate(storeMigrations.slice(0, before));
        const v1 = {
          version: 1,
          agentId: 'old',
          messages: [{ role: 'user', content: 'hi' }],
          state: {},
          turns: 1,
          updatedAt: 5,
        };
        await sql`insert into agentrix_contexts (agent_id, version, context, updated_at)
          values ('old', 1, ${JSON.stringify(v1)}::jsonb, 5)`.execute(database.kysely);
        expect((await database.migrate(storeMigrations)).applied).toEqual(['0008_store_context_threads']);
        const store = new SqlContextStore({ database });
        expect(upgradeContext(await store.load('old', 'main'))).toMatchObject({
          version: CONTEXT_VERSION,
          agentId: 'old',
          threadId: 'main',
          turns: 1,
        });
        expect(await store.threads('old')).toEqual([{ threadId: 'main', turns: 1, updatedAt: 5 }]);
      } finally {
        await fresh.dispose();
      }
    });

    for (const fixture of CONTEXT_FIXTURES) {
      it(`keeps a version ${fixture.version} context loadable (fixture ${fixture.file})`, async () => {
        const raw = JSON.parse(await readFile(new URL(`./fixtures/${fixture.file}`, import.meta.url), 'utf8')) as {
          version: number;
          agentId: string;
          threadId?: string;
        };
        expect(raw.version).toBe(fixture.version);
        const store = new SqlContextStore({ database: getDatabase() });
        const agentId = id('fixture');
        await store.save({ ...(raw as AgentContext), agentId });
        const loaded = await store.load(agentId, raw.threadId ?? 'main');
        const upgraded = upgradeContext(loaded);
        expect(upgraded.version).toBe(CONTEXT_VERSION);
        expect(upgraded.agentId).toBe(agentId);
        expect(upgraded.threadId).toBe(raw.threadId ?? 'main');
        expect(upgraded.messages.length).toBeGreaterThan(0);
        const row = await storeKysely(getDatabase().kysely)
          .selectFrom('agentrix_contexts')
          .select('version')
          .where('agent_id', '=', agentId)
          .executeTakeFirstOrThrow();
        expect(row.version).toBe(fixture.version);
      });
    }

    it('covers every context version up to the current one with a fixture', () => {
      const versions = CONTEXT_FIXTURES.map((fixture) => fixture.version);
      expect(versions).toEqual(Array.from({ length: CONTEXT_VERSION }, (_, index) => index + 1));
    });

    it('returns an unknown future version as stored, so the runtime can refuse it', async () => {
      const store = new SqlContextStore({ database: getDatabase() });
      const agentId = id('future');
      await store.save({
        version: 99,
        agentId,
        threadId: 'main',
        messages: [],
        state: {},
        turns: 0,
        updatedAt: 1,
      } as never);
      const loaded = await store.load(agentId, 'main');
      expect(() => upgradeContext(loaded)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CONTEXT_VERSION' }));
    });
  });

  describe(`SqlAgentRegistry: ${name}`, () => {
    it('saves specs, records states with errors, lists parents before children, deletes', async () => {
      let now = 1_000;
      const registry = new SqlAgentRegistry({
        database: getDatabase(),
        clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
      });
      const parent = id('parent');
      const child = id('child');
      await registry.save({ spec: spec(parent), state: 'created', createdAt: 10, updatedAt: 10 });
      await registry.save({
        spec: spec(child, { parentId: parent, role: 'worker' }),
        state: 'created',
        createdAt: 10,
        updatedAt: 10,
      });
      now = 2_000;
      await registry.setState(parent, 'error', { name: 'AgentrixError', message: 'boom', code: 'MODEL_ERROR' });
      await registry.setState('no-such-agent', 'idle');
      expect(await registry.load(parent)).toEqual({
        spec: spec(parent),
        state: 'error',
        lastError: { name: 'AgentrixError', message: 'boom', code: 'MODEL_ERROR' },
        createdAt: 10,
        updatedAt: 2_000,
      });
      await registry.setState(parent, 'idle');
      expect((await registry.load(parent))?.lastError).toBeUndefined();
      // Replacing keeps the original position in the list.
      await registry.save({
        spec: spec(parent, { role: 'planner' }),
        state: 'paused',
        createdAt: 10,
        updatedAt: 3_000,
      });
      const mine = (await registry.list()).filter((entry) => [parent, child].includes(entry.spec.id));
      expect(mine.map((entry) => [entry.spec.id, entry.state, entry.spec.role])).toEqual([
        [parent, 'paused', 'planner'],
        [child, 'created', 'worker'],
      ]);
      expect((await registry.children(parent)).map((entry) => entry.spec.id)).toEqual([child]);
      await registry.delete(child);
      expect(await registry.load(child)).toBeUndefined();
      expect(await registry.children(parent)).toEqual([]);
    });
  });

  describe(`SqlIdempotencyStore: ${name}`, () => {
    function store(clock: { now: () => number }) {
      return new SqlIdempotencyStore({
        database: getDatabase(),
        clock: { now: clock.now, setTimeout: () => 0, clearTimeout: () => {} },
      });
    }

    it('claims a key once, completes it with a result, and returns the result afterwards', async () => {
      const clock = { t: 5_000, now: () => clock.t };
      const records = store(clock);
      const key = id('key');
      expect(await records.get(key)).toBeUndefined();
      expect(await records.claim(key, { leaseMs: 1_000 })).toEqual({ claimed: true });
      const second = await records.claim(key, { leaseMs: 1_000 });
      expect(second).toEqual({
        claimed: false,
        record: { key, status: 'pending', createdAt: 5_000, updatedAt: 5_000, leaseUntil: 6_000 },
      });
      clock.t = 5_500;
      await records.complete(key, { charged: 42, receipt: ['a', 'b'] });
      clock.t = 100_000;
      const after = await records.claim(key, { leaseMs: 1_000 });
      expect(after).toEqual({
        claimed: false,
        record: {
          key,
          status: 'completed',
          result: { charged: 42, receipt: ['a', 'b'] },
          createdAt: 5_000,
          updatedAt: 5_500,
        },
      });
    });

    it('lets another caller take a key whose lease expired, or that was released', async () => {
      const clock = { t: 1_000, now: () => clock.t };
      const records = store(clock);
      const key = id('key');
      expect((await records.claim(key, { leaseMs: 100 })).claimed).toBe(true);
      clock.t = 1_099;
      expect((await records.claim(key, { leaseMs: 100 })).claimed).toBe(false);
      clock.t = 1_100;
      expect((await records.claim(key, { leaseMs: 100 })).claimed).toBe(true);
      await records.release(key, { name: 'Error', message: 'tool failed' });
      expect(await records.get(key)).toBeUndefined();
      expect((await records.claim(key, { leaseMs: 100 })).claimed).toBe(true);
      await records.complete(key, 'done');
      await records.release(key); // a completed key is not released
      expect((await records.get(key))?.status).toBe('completed');
    });

    it('gives a key to exactly one of many concurrent claimers', async () => {
      const records = store({ now: () => Date.now() });
      const key = id('key');
      const results = await Promise.all(Array.from({ length: 10 }, () => records.claim(key, { leaseMs: 60_000 })));
      expect(results.filter((result) => result.claimed)).toHaveLength(1);
    });

    it('rejects invalid keys and leases with INVALID_ARGUMENT', async () => {
      const records = store({ now: () => 0 });
      await expect(records.claim('', { leaseMs: 10 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(records.claim('k', { leaseMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}
