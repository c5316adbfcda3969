import type { ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createRedisBus, type RedisStreamsBus } from '@agentrix/bus';
import type { MessageEnvelope } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startScript } from './run-script.js';

// Issue 18, item 4: SIGTERM during a turn loses nothing and hands the message over at once (not
// after the 30 s lease); a restarted process with the same stable consumer name takes back what
// it held when it was killed.
const script = fileURLToPath(new URL('./graceful-shutdown.script.ts', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Child = ChildProcessByStdio<null, Readable, Readable>;

function start(
  namespace: string,
  consumer: string,
  slowMs: number,
): { child: Child; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = startScript(script, { TEST_NAMESPACE: namespace, CONSUMER_NAME: consumer, SLOW_MS: String(slowMs) });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, output: () => output, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function openBus(namespace: string): Promise<RedisStreamsBus> {
  const bus = await createRedisBus({ url: process.env.REDIS_URL!, namespace });
  cleanups.push(() => bus.close());
  return bus;
}

async function replies(bus: RedisStreamsBus, count: number): Promise<MessageEnvelope[]> {
  const received: MessageEnvelope[] = [];
  while (received.length < count) {
    const deliveries = await bus.read('tester', { consumer: 'tester', blockMs: 20_000 });
    if (deliveries.length === 0) throw new Error(`only ${received.length} of ${count} replies`);
    received.push(...deliveries.map((delivery) => delivery.envelope));
    await bus.ack(
      'tester',
      deliveries.map((delivery) => delivery.deliveryId),
    );
  }
  return received;
}

describe('graceful shutdown (child process, real Redis)', () => {
  it('SIGTERM: the running quick turn finishes, the slow one is handed to another consumer at once, nothing lost', async () => {
    const namespace = `shutdown-${randomUUID()}`;
    const bus = await openBus(namespace);
    const host = start(namespace, 'child-1', 60_000);
    await until(() => host.output().includes('READY'), 'READY');
    await bus.send({ from: 'tester', to: 'worker', content: 'quick', threadId: 'q', replyTo: 'tester' });
    await bus.send({ from: 'tester', to: 'worker', content: 'slow', threadId: 's', replyTo: 'tester' });
    await until(() => host.output().includes('TURN quick') && host.output().includes('TURN slow'), 'both turns');

    // The other consumer of the same inbox, in this process.
    const second = await createAgentrix({
      bus: { url: process.env.REDIS_URL!, namespace },
      model: new MockLLM({ fallback: (request) => ({ text: `second did ${request.messages.at(-1)?.content}` }) }),
    });
    cleanups.push(() => second.close());
    let takenAt = 0;
    second.on('turn.started', () => {
      takenAt = Date.now();
    });
    await second.create({ id: 'worker' });

    const signalledAt = Date.now();
    host.child.kill('SIGTERM');
    const answers = await replies(bus, 2);
    const exit = await host.exited;

    expect(answers.map((answer) => answer.content).sort()).toEqual(['child-1 did quick', 'second did slow']);
    // The drain waits 500 ms for the slow turn, then gives it back: taken well before the 30 s lease.
    expect(takenAt - signalledAt).toBeLessThan(500 + 1_000);
    expect(exit.signal ?? exit.code).toBe('SIGTERM');
    await second.waitForIdle();
    expect(await bus.stats('worker')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
  });

  it('a process killed mid-turn and restarted under the same stable name takes its delivery back at once', async () => {
    const namespace = `reclaim-${randomUUID()}`;
    const bus = await openBus(namespace);
    const first = start(namespace, 'child-r', 60_000);
    await until(() => first.output().includes('READY'), 'READY');
    await bus.send({ from: 'tester', to: 'worker', content: 'slow', replyTo: 'tester' });
    await until(() => first.output().includes('TURN slow'), 'the turn');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await bus.stats('worker')).toMatchObject({ inFlight: 1 });

    const restartedAt = Date.now();
    const restarted = start(namespace, 'child-r', 0);
    const [answer] = await replies(bus, 1);
    expect(answer!.content).toBe('child-r did slow');
    // Without the reclaim it would wait for the lease (30 s).
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    expect(restarted.output()).toContain('TURN slow');
  });
});
