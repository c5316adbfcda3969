import { InMemoryBus } from '@agentrix/bus';
import { MockLLM } from '@agentrix/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentrix } from './create-agentrix.js';
import { stableConsumerName } from './shutdown.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('stableConsumerName', () => {
  it('is <host>:<name>, the host made a valid address', () => {
    expect(stableConsumerName('worker-1', 'web 01.example.com')).toBe('web-01.example.com:worker-1');
    expect(stableConsumerName('worker-1')).toMatch(/^[A-Za-z0-9_.:-]+:worker-1$/);
  });

  it('refuses a name that is empty, too long or not an address', () => {
    for (const name of ['', 'a'.repeat(61), 'two words', 'x:y', 42]) {
      expect(() => stableConsumerName(name as string)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('agentrix.shutdown()', () => {
  it('lets the running turn answer, takes no new message, and leaves it unread for another process', async () => {
    const bus = new InMemoryBus();
    cleanups.push(() => bus.close());
    let release: (() => void) | undefined;
    const agentrix = await createAgentrix({
      bus,
      model: new MockLLM({
        fallback: async (request) => {
          const content = String(request.messages.at(-1)?.content);
          if (content === 'first') await new Promise<void>((resolve) => (release = resolve));
          return { text: `did ${content}` };
        },
      }),
    });
    cleanups.push(() => agentrix.close());
    await agentrix.create({ id: 'a1' });
    const first = agentrix.ask('a1', 'first');
    await expect.poll(() => release !== undefined).toBe(true);

    const stopped = agentrix.shutdown({ timeoutMs: 5_000 });
    await bus.send({ from: 'outside', to: 'a1', content: 'second' });
    release?.();
    expect((await first).content).toBe('did first');
    await stopped;
    expect(await bus.stats('a1')).toEqual({ unread: 1, inFlight: 0, deadLetters: 0 });
  });

  it('gives the running turn back at its deadline', async () => {
    const bus = new InMemoryBus();
    cleanups.push(() => bus.close());
    const agentrix = await createAgentrix({
      bus,
      model: new MockLLM({ fallback: () => new Promise(() => {}) }),
    });
    cleanups.push(() => agentrix.close());
    await agentrix.create({ id: 'a1' });
    await bus.send({ from: 'outside', to: 'a1', content: 'never answered' });
    await expect.poll(() => agentrix.get('a1').state).toBe('running');
    await agentrix.shutdown({ timeoutMs: 50 });
    expect(await bus.stats('a1')).toEqual({ unread: 1, inFlight: 0, deadLetters: 0 });
  });

  it('refuses bad shutdown and telemetry options with INVALID_ARGUMENT, closing what it opened', async () => {
    const model = new MockLLM({ fallback: { text: 'x' } });
    await expect(createAgentrix({ model, shutdown: { timeoutMs: -5 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('shutdown.timeoutMs'),
    });
    await expect(createAgentrix({ model, shutdown: { signals: ['TERM' as NodeJS.Signals] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('shutdown.signals'),
    });
    await expect(createAgentrix({ model, shutdown: 'yes' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('shutdown expects'),
    });
    await expect(createAgentrix({ model, telemetry: 'on' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('telemetry expects'),
    });
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
