// Test support (not exported): SqlLedger and the SqlBudgetStore extras beyond the gateway's
// BudgetStore contract, against a migrated database (PGlite or a Postgres server).
import { randomUUID } from 'node:crypto';
import type { LedgerRecord } from '@agentrix/core';
import { buildDailyReport, createGateway, InMemoryLedger } from '@agentrix/gateway';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import type { Database } from './database.js';
import { SqlBudgetStore } from './sql-budget-store.js';
import { SqlLedger } from './sql-ledger.js';
import { storeKysely } from './store-tables.js';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};

function record(id: string, extra: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    id,
    at: Date.UTC(2025, 5, 1, 12),
    day: '2025-06-01',
    model: 'test-small',
    inputTokens: 10,
    outputTokens: 20,
    cachedInputTokens: 0,
    estimated: false,
    costUsd: 0.00005,
    latencyMs: 12.5,
    stream: false,
    cacheHit: false,
    ...extra,
  };
}

export function gatewayStoresContract(name: string, getDatabase: () => Database): void {
  describe(`SqlLedger: ${name}`, () => {
    it('keeps every field of a record, and optional fields stay absent', async () => {
      const ledger = new SqlLedger({ database: getDatabase() });
      const agent = `agent-${randomUUID()}`;
      const full = record(`call-${randomUUID()}`, {
        agentId: agent,
        userId: 'u1',
        workflowId: 'w1',
        tags: ['research', 'nightly'],
        tier: 'small',
        cachedInputTokens: 4,
        estimated: true,
        costUsd: 0.000123456789,
        stream: true,
        cacheHit: true,
        degradedFrom: 'large',
        degradation: 'smaller-tier',
        error: { code: 'PROVIDER_ERROR', message: 'cut off' },
      });
      const minimal = record(`call-${randomUUID()}`, { agentId: agent });
      await ledger.append(full);
      await ledger.append(minimal);
      expect(await ledger.query({ agentId: agent })).toEqual([full, minimal]);
      await ledger.close();
    });

    it('filters by day range, agent, user and workflow like InMemoryLedger, oldest first', async () => {
      const ledger = new SqlLedger({ database: getDatabase() });
      const memory = new InMemoryLedger();
      const run = randomUUID();
      const records = [
        record(`${run}-1`, { day: '2025-05-31', agentId: `a-${run}`, userId: `u-${run}` }),
        record(`${run}-2`, { day: '2025-06-01', agentId: `a-${run}`, workflowId: `w-${run}` }),
        record(`${run}-3`, { day: '2025-06-01', agentId: `b-${run}`, userId: `u-${run}`, workflowId: `w-${run}` }),
        record(`${run}-4`, { day: '2025-06-02', agentId: `a-${run}`, userId: `u-${run}` }),
      ];
      for (const each of records) {
        await ledger.append(each);
        await memory.append(each);
      }
      const queries = [
        { agentId: `a-${run}` },
        { agentId: `a-${run}`, fromDay: '2025-06-01' },
        { userId: `u-${run}`, toDay: '2025-06-01' },
        { workflowId: `w-${run}`, fromDay: '2025-06-01', toDay: '2025-06-01' },
        { agentId: `b-${run}`, userId: `u-${run}`, workflowId: `w-${run}` },
        { agentId: `nobody-${run}` },
      ];
      for (const query of queries)
        expect(await ledger.query(query), JSON.stringify(query)).toEqual(await memory.query(query));
      expect((await ledger.query({ agentId: `a-${run}` })).map((each) => each.id)).toEqual([
        `${run}-1`,
        `${run}-2`,
        `${run}-4`,
      ]);
      const day = (await ledger.query({ fromDay: '2025-06-01', toDay: '2025-06-01' })).filter((each) =>
        each.id.startsWith(run),
      );
      expect(buildDailyReport('2025-06-01', day)).toEqual(
        buildDailyReport('2025-06-01', await memory.query({ fromDay: '2025-06-01', toDay: '2025-06-01' })),
      );
      await ledger.close();
    });

    it('appends a record id once, rejects bad records and queries, and refuses calls after close', async () => {
      const ledger = new SqlLedger({ database: getDatabase() });
      const agent = `agent-${randomUUID()}`;
      const first = record(`call-${randomUUID()}`, { agentId: agent });
      await ledger.append(first);
      await ledger.append({ ...first, costUsd: 99 });
      expect(await ledger.query({ agentId: agent })).toEqual([first]);
      await expect(ledger.append(record('x', { day: '1 June' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(ledger.query({ fromDay: '2025-6-1' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('YYYY-MM-DD'),
      });
      await ledger.close();
      await ledger.close();
      await expect(ledger.query()).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });

  describe(`SqlBudgetStore: ${name}`, () => {
    it('leaves no counter behind for a refused reservation, and reports its counter as it was', async () => {
      const store = new SqlBudgetStore({ database: getDatabase() });
      const fits = `fits-${randomUUID()}`;
      const fresh = `fresh-${randomUUID()}`;
      const id = `refused-${randomUUID()}`;
      const refused = await store.reserve({
        id,
        holder: 'h',
        expiresAt: Date.now() + 60_000,
        lines: [
          { key: fits, limit: 100, amount: 10 },
          { key: fresh, limit: 5, amount: 10 },
        ],
      });
      expect(refused).toEqual({ ok: false, key: fresh, counter: { key: fresh, spent: 0, reserved: 0 } });
      const rows = await storeKysely(getDatabase().kysely)
        .selectFrom('agentrix_budget_counters')
        .select('key')
        .where('key', 'in', [fits, fresh])
        .execute();
      expect(rows).toEqual([]);
      const reservations = await storeKysely(getDatabase().kysely)
        .selectFrom('agentrix_budget_reservations')
        .select('id')
        .where('id', '=', id)
        .execute();
      expect(reservations).toEqual([]);
      await store.close();
    });

    it('settles a key it never reserved, and drops expired counters on deleteExpired', async () => {
      const clock = new FakeClock(Date.UTC(2025, 5, 1));
      const store = new SqlBudgetStore({ database: getDatabase(), clock });
      const old = `old-${randomUUID()}`;
      const current = `current-${randomUUID()}`;
      const forever = `forever-${randomUUID()}`;
      const reservation = (key: string, line: { limit: number; amount: number; expiresAt?: number }) => ({
        id: `${key}-r`,
        holder: 'h',
        expiresAt: Date.UTC(2025, 5, 1, 1),
        lines: [{ key, ...line }],
      });
      expect(
        await store.settle({
          id: `never-${randomUUID()}`,
          lines: [{ key: old, actual: 7, expiresAt: Date.UTC(2025, 5, 1) }],
        }),
      ).toEqual({ held: false });
      await store.reserve(reservation(current, { limit: 10, amount: 3, expiresAt: Date.UTC(2025, 5, 3) }));
      await store.reserve(reservation(forever, { limit: 10, amount: 3 }));
      expect(await store.read([old])).toEqual([{ key: old, spent: 7, reserved: 0 }]);
      expect(await store.deleteExpired()).toBeGreaterThanOrEqual(1);
      expect(await store.read([old, current, forever])).toEqual([
        { key: old, spent: 0, reserved: 0 },
        { key: current, spent: 0, reserved: 3 },
        { key: forever, spent: 0, reserved: 3 },
      ]);
      await store.close();
    });

    it('rejects amounts that are not non-negative integers, and empty ids, with INVALID_ARGUMENT', async () => {
      const store = new SqlBudgetStore({ database: getDatabase() });
      const reservation = { id: 'r', holder: 'h', expiresAt: 1 };
      await expect(
        store.reserve({ ...reservation, lines: [{ key: 'k', limit: 10, amount: 1.5 }] }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('non-negative integer'),
      });
      await expect(store.settle({ id: 'r', lines: [{ key: 'k', actual: -1 }] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(store.reserve({ ...reservation, lines: [{ key: '', limit: 10, amount: 1 }] })).rejects.toMatchObject(
        {
          code: 'INVALID_ARGUMENT',
        },
      );
      await expect(store.reserve({ ...reservation, holder: '', lines: [] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('holder'),
      });
      await expect(store.releaseExpired(-5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await store.close();
      await expect(store.read(['k'])).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('backs a gateway: budgets, budgetStatus, ledger and the daily report', async () => {
      const database = getDatabase();
      const budget = `team-${randomUUID()}`;
      const agent = `agent-${randomUUID()}`;
      const gateway = createGateway({
        provider: new MockLLM({ fallback: { text: 'ok', usage: { inputTokens: 9, outputTokens: 50 } } }),
        models: MODELS,
        tiers: { small: 'test-small' },
        budgets: [{ id: budget, scope: 'global', period: 'day', usd: 0.001 }],
        budgetStore: new SqlBudgetStore({ database }),
        ledger: new SqlLedger({ database }),
        degradation: { planOnly: false },
      });
      for (let index = 0; index < 3; index++) {
        await gateway.generate({
          messages: [{ role: 'user', content: 'tight' }],
          maxTokens: 50,
          scope: { agentId: agent },
        });
      }
      const [status] = await gateway.budgetStatus();
      expect(status).toMatchObject({ budget, unit: 'usd', limit: 0.001, reserved: 0 });
      expect(status!.spent).toBeCloseTo(3 * 0.000109, 9);
      // The gateway appends ledger records in the background, after each call.
      await vi.waitFor(async () => {
        const report = await gateway.report();
        expect(report.byAgent[agent]).toMatchObject({ calls: 3, inputTokens: 27, outputTokens: 150 });
      });
      await gateway.close();
    });
  });
}
