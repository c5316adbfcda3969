// A process SIGKILLed between reserve and settle leaves its reservation in the database; it does
// not leak: a host restarted with the same holder id releases it when it starts, and any host's
// sweep releases it once it has expired. Runs on PGlite (on disk) always, on Postgres when
// DATABASE_URL is set.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@agentrix/core';
import { createGateway, type Gateway, type GatewayOptions } from '@agentrix/gateway';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { type AgentrixStore, createAgentrixStore } from './agentrix-store.js';
import { onPgliteDirectory, onPostgresSchema } from './testing/crash-databases.js';
import { runScriptChild } from './testing/script-child.js';

const childScript = fileURLToPath(new URL('./crash/budget-reservation-child.ts', import.meta.url));
const TTL = 60_000;
const SWEEP = 10_000;
const RESERVED = 9 + 100; // the child's prompt (with the 10% margin) and its maxTokens

/** Runs the child until it holds its reservation, then SIGKILLs it. */
async function reserveAndDie(env: Record<string, string>): Promise<void> {
  const { killed } = await runScriptChild(childScript, { env, killOn: 'RESERVED' });
  expect(killed).toBe(true);
}

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function gatewayOn(store: AgentrixStore, budget: string, options: Partial<GatewayOptions>) {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const gateway: Gateway = createGateway({
    provider: new MockLLM({ fallback: { text: 'ok' } }),
    models: { 'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 } },
    tiers: { small: 'test-small' },
    budgets: [{ id: budget, scope: 'global', period: 'day', tokens: 10_000 }],
    budgetStore: store.budgets,
    logger,
    ...options,
  });
  return { gateway, lines };
}

async function heldRows(store: AgentrixStore): Promise<{ holder: string }[]> {
  const result = await sql<{ holder: string }>`select holder from agentrix_budget_reservations`.execute(
    store.database.kysely,
  );
  return result.rows;
}

async function crashAndRelease(url: string, schema: string | undefined): Promise<void> {
  const open = () => createAgentrixStore({ url, vector: 'off', ...(schema ? { schema } : {}) });
  const budget = `team-${randomUUID()}`;
  const env = { BUDGET_DATABASE_URL: url, BUDGET_SCHEMA: schema ?? '', BUDGET_ID: budget, BUDGET_TTL_MS: String(TTL) };

  // 1. Killed before settle; restarted with the same holder id: released at start.
  await reserveAndDie({ ...env, BUDGET_HOLDER: 'host-a' });
  {
    await using store = await open();
    expect(await heldRows(store)).toEqual([{ holder: 'host-a' }]);
    const { gateway, lines } = gatewayOn(store, budget, { reservations: { holderId: 'host-a' } });
    expect((await gateway.budgetStatus())[0]).toMatchObject({ reserved: 0, spent: 0 });
    expect(await heldRows(store)).toEqual([]);
    expect(lines).toMatchObject([{ level: 'warn', fields: { holder: 'host-a', reason: 'holder-restarted' } }]);
    await gateway.close();
  }

  // 2. Killed before settle; nobody restarts as host-b: another host's sweep releases it once expired.
  await reserveAndDie({ ...env, BUDGET_HOLDER: 'host-b' });
  {
    await using store = await open();
    const clock = new FakeClock(Date.now());
    const { gateway, lines } = gatewayOn(store, budget, {
      clock,
      reservations: { holderId: 'host-c', ttlMs: TTL, sweepIntervalMs: SWEEP },
    });
    expect((await gateway.budgetStatus())[0]).toMatchObject({ reserved: RESERVED });
    // Past the expiry; each sweep re-arms once its query is done, so step through a few of them.
    await clock.advance(TTL);
    await vi.waitFor(async () => {
      await clock.advance(SWEEP);
      expect((await gateway.budgetStatus())[0]).toMatchObject({ reserved: 0, spent: 0 });
    });
    expect(await heldRows(store)).toEqual([]);
    expect(lines).toMatchObject([{ level: 'warn', fields: { holder: 'host-b', reason: 'expired' } }]);
    await gateway.close();
  }
}

describe('budget reservations of a process killed between reserve and settle', () => {
  it('are released on PGlite (on disk): by the restarted holder, and by a sweep once expired', async () => {
    await onPgliteDirectory('budget-crash', (directory) => crashAndRelease(directory, undefined));
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'are released on Postgres: by the restarted holder, and by a sweep once expired',
    async () => {
      const url = process.env.DATABASE_URL!;
      await onPostgresSchema(url, 'budget_crash', (schema) => crashAndRelease(url, schema));
    },
    120_000,
  );
});
