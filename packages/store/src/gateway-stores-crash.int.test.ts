// A process SIGKILLed between reserve and settle leaves its reservation in the database; it does
// not leak: a host restarted with the same holder id releases it when it starts, and any host's
// sweep releases it once it has expired. Runs on PGlite (on disk) always, on Postgres when
// DATABASE_URL is set.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@agentrix/core';
import { createGateway, type Gateway, type GatewayOptions } from '@agentrix/gateway';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { type AgentrixStore, createAgentrixStore } from './agentrix-store.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./crash/budget-reservation-child.ts', import.meta.url));
const TTL = 60_000;
const SWEEP = 10_000;
const RESERVED = 9 + 100; // the child's prompt (with the 10% margin) and its maxTokens

/** Runs the child until it holds its reservation, then SIGKILLs it. */
function reserveAndDie(env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (!killed && output.includes('RESERVED\n')) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve();
      else
        reject(
          new Error(`budget child exited (code ${code}, signal ${signal}) before it was killed:\n${output}\n${errors}`),
        );
    });
  });
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
    const directory = path.join(os.tmpdir(), `agentrix-budget-crash-${randomUUID()}`);
    try {
      await crashAndRelease(directory, undefined);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'are released on Postgres: by the restarted holder, and by a sweep once expired',
    async () => {
      const url = process.env.DATABASE_URL!;
      const schema = `budget_crash_${randomUUID().replaceAll('-', '')}`;
      try {
        await crashAndRelease(url, schema);
      } finally {
        await using store = await createAgentrixStore({ url, schema, vector: 'off' });
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
      }
    },
    120_000,
  );
});
