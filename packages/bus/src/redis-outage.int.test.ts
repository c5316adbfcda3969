import { AgentrixError } from '@agentrix/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus, type RedisStreamsBus } from './index.js';
import { capturingLogger, type LogLine } from './logger-test-support.js';
import { OwnRedisServer } from './redis-test-support.js';

/** How a call ended within `ms` ('pending' if it had not), and when. */
async function outcome(call: Promise<unknown>, ms = 5_000): Promise<{ code: string; ms: number }> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([
    call.then(
      () => 'resolved',
      (error: unknown) => (AgentrixError.isInstance(error) ? error.code : String(error)),
    ),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms);
    }),
  ]);
  clearTimeout(timer);
  return { code, ms: Date.now() - started };
}

const COMMAND_TIMEOUT_MS = 1_000;

describe('RedisStreamsBus while Redis is down (issue 12, items 3 and 8)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{ server: OwnRedisServer; bus: RedisStreamsBus; lines: LogLine[] }> {
    const server = await OwnRedisServer.start({ persistence: false });
    cleanups.push(() => server.stop());
    const lines: LogLine[] = [];
    const bus = await createRedisBus({
      url: server.url,
      namespace: 'outage',
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      logger: capturingLogger(lines),
    });
    cleanups.push(() => bus.close());
    // A delivery to ack, and a blocked reader (so the wake-up connection is up) before the outage.
    await bus.send({ from: 'host', to: 'agent', content: 'before' });
    const [delivery] = await bus.read('agent', { consumer: 'w', blockMs: 0 });
    expect(delivery).toBeDefined();
    cleanups.push(() => bus.ack('agent', [delivery!.deliveryId]).catch(() => {}));
    return { server, bus, lines };
  }

  /** What every call does while Redis does not answer. */
  async function expectBoundedCalls(bus: RedisStreamsBus): Promise<void> {
    const calls = {
      blockedRead: outcome(bus.read('host:a', { consumer: 'h', signal: AbortSignal.timeout(200) })),
      readNow: outcome(bus.read('host:b', { consumer: 'h', blockMs: 0, signal: AbortSignal.timeout(200) })),
      send: outcome(bus.send({ from: 'host', to: 'agent', content: 'during' })),
      ack: outcome(bus.ack('agent', ['1-1'])),
      deleteInbox: outcome(bus.deleteInbox('host:a')),
    };
    const settled = Object.fromEntries(
      await Promise.all(Object.entries(calls).map(async ([name, call]) => [name, await call] as const)),
    );
    // A read with a signal answers when the signal fires, Redis or not.
    expect(settled.blockedRead!.code).toBe('ABORTED');
    expect(settled.readNow!.code).toBe('ABORTED');
    expect(settled.readNow!.ms).toBeLessThan(COMMAND_TIMEOUT_MS);
    // Everything else fails with BUS_UNAVAILABLE once commandTimeoutMs has passed, never hangs.
    for (const name of ['send', 'ack', 'deleteInbox'] as const) {
      expect({ name, code: settled[name]!.code }).toEqual({ name, code: 'BUS_UNAVAILABLE' });
    }
  }

  it('bounds every call while Redis is paused (SIGSTOP: connections stay open, nothing answers)', async () => {
    const { server, bus } = await setUp();
    const woken = bus.read('agent', { consumer: 'w', blockMs: 20_000 });
    server.pause();
    try {
      await expectBoundedCalls(bus);
    } finally {
      server.resume();
    }
    // Back to normal: the blocked reader gets the next message (and maybe the one whose send timed out).
    await bus.send({ id: 'after', from: 'host', to: 'agent', content: 'after' });
    const deliveries = await woken;
    expect(deliveries.length).toBeGreaterThan(0);
  });

  it('bounds every call while Redis is gone, logs the outage once and the recovery', async () => {
    const { server, bus, lines } = await setUp();
    await server.kill();
    await expectBoundedCalls(bus);
    const lost = lines.filter((line) => line.level === 'warn' && /lost its Redis connection/.test(line.message));
    expect(lost).toHaveLength(1);
    expect(lost[0]!.fields).toMatchObject({ commandTimeoutMs: COMMAND_TIMEOUT_MS });

    await server.restart();
    const back = Date.now() + 10_000;
    while (!lines.some((line) => line.level === 'info' && /connection back/.test(line.message))) {
      if (Date.now() > back) throw new Error('no recovery logged within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recovered = lines.find((line) => /connection back/.test(line.message))!;
    expect(recovered.fields.downMs).toBeGreaterThan(0);
    await bus.send({ from: 'host', to: 'agent', content: 'after' });
    expect((await bus.read('agent', { consumer: 'w2', blockMs: 5_000 })).map((d) => d.envelope.content)).toContain(
      'after',
    );
  });
});
