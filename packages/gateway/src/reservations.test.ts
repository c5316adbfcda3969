// Budget reservations never leak: one its holder never settles expires and a sweep gives it back;
// a host that restarts with its holder id gives back what its previous run held. Both are logged.
// (The same with a real SIGKILL on PGlite and Postgres: packages/store/src/gateway-stores-crash.int.test.ts.)
import type { ChatModel, Logger } from '@agentrix/core';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { InMemoryBudgetStore } from './budget-store.js';
import { createGateway, type Gateway } from './gateway.js';
import type { GatewayEventMap } from './gateway-events.js';
import type { GatewayOptions } from './gateway-options.js';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const START = Date.UTC(2025, 5, 1, 12);
const TTL = 60_000;
const SWEEP = 10_000;

/** A model that never answers: a call to it holds its reservation like a process killed mid-call. */
const stuck: ChatModel = {
  name: 'stuck',
  generate: () => new Promise(() => {}),
  stream: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) }),
};

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function gatewayOn(store: InMemoryBudgetStore, options: Partial<GatewayOptions>): Gateway {
  return createGateway({
    provider: new MockLLM({ fallback: { text: 'ok', usage: { inputTokens: 9, outputTokens: 10 } } }),
    models: MODELS,
    tiers: { small: 'test-small' },
    budgets: [{ id: 'team', scope: 'global', period: 'day', tokens: 10_000 }],
    budgetStore: store,
    ...options,
  });
}

/** Starts a call on `gateway` that never ends, once it holds its reservation. */
async function strandCall(gateway: Gateway): Promise<void> {
  const reserved = new Promise((resolve) => gateway.events.once('budget.reserved', resolve));
  void gateway.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100 });
  await reserved;
}

describe('budget reservations', () => {
  it('an expired reservation is released by the next sweep, logged and announced', async () => {
    const clock = new FakeClock(START);
    const store = new InMemoryBudgetStore({ now: () => clock.now() });
    const dead = gatewayOn(store, { provider: stuck, clock, reservations: { ttlMs: TTL, sweepIntervalMs: 0 } });
    await strandCall(dead);
    const { logger, lines } = capturingLogger();
    const survivor = gatewayOn(store, { clock, logger, reservations: { ttlMs: TTL, sweepIntervalMs: SWEEP } });
    const reclaimed: GatewayEventMap['budget.reclaimed'][] = [];
    survivor.events.on('budget.reclaimed', (event) => reclaimed.push(event));
    const [held] = await survivor.budgetStatus();
    expect(held).toMatchObject({ reserved: 9 + 100 });
    // Not expired yet: the sweeps leave it alone.
    await clock.advance(TTL - SWEEP);
    expect((await survivor.budgetStatus())[0]).toMatchObject({ reserved: 109 });
    await clock.advance(SWEEP);
    expect((await survivor.budgetStatus())[0]).toMatchObject({ reserved: 0, spent: 0 });
    expect(reclaimed).toMatchObject([{ reason: 'expired', expiresAt: START + TTL, lines: [{ amount: 109 }] }]);
    expect(lines).toMatchObject([
      {
        level: 'warn',
        message: expect.stringContaining('released an expired budget reservation'),
        fields: { reservationId: reclaimed[0]!.reservationId, reason: 'expired', holder: reclaimed[0]!.holder },
      },
    ]);
    // The survivor's own calls go on as usual.
    await survivor.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100 });
    expect((await survivor.budgetStatus())[0]).toMatchObject({ reserved: 0, spent: 19 });
    await survivor.close();
    await dead.close();
  });

  it('a host restarted with its holder id releases what its previous run held, at start', async () => {
    const store = new InMemoryBudgetStore();
    const firstRun = gatewayOn(store, { provider: stuck, reservations: { holderId: 'worker-1' } });
    const neighbour = gatewayOn(store, { provider: stuck, reservations: { holderId: 'worker-2' } });
    await strandCall(firstRun);
    await strandCall(neighbour);
    const { logger, lines } = capturingLogger();
    const secondRun = gatewayOn(store, { logger, reservations: { holderId: 'worker-1' } });
    // Only worker-1's reservation is gone; worker-2 is alive and keeps its own.
    expect((await secondRun.budgetStatus())[0]).toMatchObject({ reserved: 109 });
    expect(lines).toMatchObject([
      {
        level: 'warn',
        message: expect.stringContaining('previous run of this holder'),
        fields: { holder: 'worker-1', reason: 'holder-restarted' },
      },
    ]);
    await Promise.all([firstRun.close(), neighbour.close(), secondRun.close()]);
  });

  it('a call that outlives its reservation still has its spend counted, and says so', async () => {
    const clock = new FakeClock(START);
    const store = new InMemoryBudgetStore({ now: () => clock.now() });
    let answer: (() => void) | undefined;
    const slow: ChatModel = {
      name: 'slow',
      generate: () =>
        new Promise((resolve) => {
          answer = () =>
            resolve({
              message: { role: 'assistant', content: 'late' },
              finishReason: 'stop',
              usage: { inputTokens: 9, outputTokens: 10 },
              model: 'test-small',
            });
        }),
      stream: () => {
        throw new Error('not used');
      },
    };
    const { logger, lines } = capturingLogger();
    const gateway = gatewayOn(store, {
      provider: slow,
      clock,
      logger,
      reservations: { ttlMs: TTL, sweepIntervalMs: SWEEP },
    });
    const reserved = new Promise((resolve) => gateway.events.once('budget.reserved', resolve));
    const call = gateway.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100 });
    await reserved;
    await clock.advance(TTL + SWEEP);
    expect((await gateway.budgetStatus())[0]).toMatchObject({ reserved: 0 });
    answer!();
    expect((await call).message.content).toBe('late');
    expect((await gateway.budgetStatus())[0]).toMatchObject({ reserved: 0, spent: 19 });
    expect(lines).toMatchObject([
      { level: 'warn', message: expect.stringContaining('released an expired budget reservation') },
      {
        level: 'warn',
        message: expect.stringContaining('expired before its call ended'),
        fields: { callId: expect.any(String), reservationId: expect.any(String) },
      },
    ]);
    await gateway.close();
  });
});
