import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { AgentrixError, type AgentrixEventMap, AgentrixEvents, type Delivery, systemClock } from '@agentrix/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus, type RedisClientLike, RedisStreamsBus } from './index.js';
import { capturingLogger, type LogLine } from './logger-test-support.js';
import { messageBusContract } from './message-bus.contract.js';
import { freePort, requireRedisUrl } from './redis-test-support.js';

messageBusContract('RedisStreamsBus', (options) =>
  createRedisBus({ url: requireRedisUrl(), namespace: `test-${randomUUID()}`, ...options }),
);

describe('RedisStreamsBus', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openBus(options: Parameters<typeof createRedisBus>[0] = {}): Promise<RedisStreamsBus> {
    const bus = await createRedisBus({ url: requireRedisUrl(), namespace: `test-${randomUUID()}`, ...options });
    cleanups.push(() => bus.close());
    return bus;
  }

  function openClient(): Redis {
    const client = new Redis(requireRedisUrl());
    cleanups.push(() => client.quit());
    return client;
  }

  it('fails with BUS_UNAVAILABLE naming the URL without its password when Redis is unreachable', async () => {
    const port = await freePort();
    const url = `redis://agent:s3cret-pass@127.0.0.1:${port}/2`;
    const error = await createRedisBus({ url, connectTimeoutMs: 1000 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(AgentrixError.isInstance(error)).toBe(true);
    expect((error as AgentrixError).code).toBe('BUS_UNAVAILABLE');
    expect((error as AgentrixError).message).toContain(`redis://agent:***@127.0.0.1:${port}/2`);
    expect((error as AgentrixError).message).not.toContain('s3cret');
    expect(JSON.stringify((error as AgentrixError).details)).not.toContain('s3cret');
  });

  it('rejects bad options with INVALID_ARGUMENT before connecting', async () => {
    await expect(createRedisBus({ url: 'redis://127.0.0.1:1', namespace: 'has space' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(() => new RedisStreamsBus({} as never)).toThrow(/client/);
  });

  it('never closes a client the host passed in, and interrupts its blocked reads on close', async () => {
    const client = openClient();
    const bus = new RedisStreamsBus({
      client: client as unknown as RedisClientLike,
      namespace: `test-${randomUUID()}`,
    });
    const blocked = bus.read('agent', { consumer: 'w1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await bus.close();
    expect(await blocked).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('shares inboxes, wake-ups and de-duplication between buses (processes) on one Redis', async () => {
    const namespace = `test-${randomUUID()}`;
    const sender = await openBus({ namespace });
    const reader = await openBus({ namespace });
    const blocked = reader.read('agent', { consumer: 'worker-b', blockMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const sent = await sender.send({ from: 'host', to: 'agent', content: 'across', externalId: 'update-1' });
    const [delivery] = await blocked;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(delivery!.envelope).toEqual(sent);
    expect((await reader.send({ from: 'host', to: 'agent', content: 'again', externalId: 'update-1' })).id).toBe(
      sent.id,
    );
    await sender.ack('agent', [delivery!.deliveryId]);
    expect(await reader.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    await sender.createGroup('team');
    await sender.join('team', 'agent');
    expect(await reader.members('team')).toEqual(['agent']);
  });

  it('fails only the sends of an inbox Redis refuses, in a batch whose other sends go through', async () => {
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace });
    const client = openClient();
    // A stream key and an `armed` key of the wrong type: XADD, then GETDEL, refuse them.
    await client.set(`agentrix:${namespace}:inbox:{broken}:stream`, 'not a stream');
    await client.hset(`agentrix:${namespace}:inbox:{armed-wrong}:armed`, 'field', 'value');
    // Sent in one tick: one batch script, the short form for every item.
    const outcomes = await Promise.allSettled([
      bus.send({ from: 'host', to: 'agent', content: 'one' }),
      bus.send({ from: 'host', to: 'broken', content: 'refused' }),
      bus.send({ from: 'host', to: 'armed-wrong', content: 'refused after its XADD' }),
      bus.send({ from: 'host', to: 'agent', content: 'two' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    for (const outcome of outcomes.slice(1, 3)) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'INTERNAL' });
      expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/);
    }
    const read = await bus.read('agent', { consumer: 'w', max: 10, blockMs: 0 });
    expect(read.map((delivery) => delivery.envelope.content)).toEqual(['one', 'two']);
    // Every send of a batch appended (the script's reply is then one number): each resolves.
    const sent = await Promise.all(
      [1, 2, 3].map((index) => bus.send({ from: 'host', to: 'agent', content: `${index}` })),
    );
    expect(sent.map((envelope) => envelope.content)).toEqual(['1', '2', '3']);
  });

  it('keeps 10,000 blocked reads on one pub/sub connection and wakes the right one', async () => {
    const name = `test-${randomUUID()}`;
    const client = new Redis(requireRedisUrl(), { connectionName: name, enableAutoPipelining: true });
    cleanups.push(() => client.quit());
    const bus = new RedisStreamsBus({ client: client as unknown as RedisClientLike, namespace: name });
    cleanups.push(() => bus.close());
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const reads = Array.from({ length: 10_000 }, (_, index) =>
      bus.read(`agent-${index}`, { consumer: 'w', max: 1, signal: controller.signal }).catch((error: unknown) => error),
    );
    const deadline = Date.now() + 30_000;
    while (bus.wakeSubscriptions < 10_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(bus.wakeSubscriptions).toBe(10_000);
    // The host's command connection plus one subscriber connection for all of them.
    expect(await connectionsNamed(client, name)).toBe(2);
    const started = Date.now();
    await bus.send({ from: 'host', to: 'agent-4321', content: 'only you' });
    const [delivery] = (await reads[4321]) as Array<{ envelope: { content: string } }>;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(delivery!.envelope.content).toBe('only you');
    controller.abort();
    const outcomes = await Promise.all(reads);
    expect(outcomes.filter((outcome) => AgentrixError.isInstance(outcome)).length).toBe(9_999);
  });

  it('dead-letters entries written by something else without crashing the reader', async () => {
    const events = new AgentrixEvents();
    const dead: AgentrixEventMap['message.dead-lettered'][] = [];
    events.on('message.dead-lettered', (event) => dead.push(event));
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace, events });
    const client = openClient();
    const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
    await bus.send({ from: 'host', to: 'agent', content: 'before' });
    await client.xadd(stream, '*', 'foo', 'bar');
    await client.xadd(stream, '*', 'envelope', 'not json');
    await client.xadd(stream, '*', 'envelope', JSON.stringify({ hello: 'world' }));
    await bus.send({ from: 'host', to: 'agent', content: 'after' });
    const contents: string[] = [];
    for (;;) {
      const deliveries = await bus.read('agent', { blockMs: 0, max: 1 });
      if (deliveries.length === 0) break;
      contents.push(...deliveries.map((delivery) => delivery.envelope.content));
      await bus.ack(
        'agent',
        deliveries.map((delivery) => delivery.deliveryId),
      );
    }
    expect(contents).toEqual(['before', 'after']);
    const letters = await bus.deadLetters('agent');
    expect(letters).toHaveLength(3);
    for (const letter of letters) {
      expect(letter.envelope.type).toBe('malformed');
      expect(letter.error).toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringMatching(/Malformed/) });
    }
    expect(JSON.parse(letters[0]!.envelope.content)).toEqual(['foo', 'bar']);
    expect(dead).toHaveLength(3);
    expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 3 });
    // A blocked reader is not stuck behind malformed entries either.
    await client.xadd(stream, '*', 'junk', '1');
    const blocked = bus.read('agent', { blockMs: 5000 });
    await bus.send({ from: 'host', to: 'agent', content: 'later' });
    expect((await blocked).map((delivery) => delivery.envelope.content)).toEqual(['later']);
  });

  it('trims acked entries from the stream (never one unread or in flight) and counts the backlog', async () => {
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace });
    const client = openClient();
    const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
    for (let index = 0; index < 50; index++) await bus.send({ from: 'host', to: 'agent', content: String(index) });
    const [held] = await bus.read('agent', { consumer: 'slow', max: 1, blockMs: 0 });
    const deliveries = await bus.read('agent', { max: 29, blockMs: 0 });
    // Acked with XACK alone: the entries stay until a trim, and a trim stops at the oldest delivery
    // in flight (held), so nothing before it is counted unread.
    await bus.ack('agent', [deliveries[0]!.deliveryId]);
    expect(await client.xlen(stream)).toBe(50);
    expect(await bus.stats('agent')).toEqual({ unread: 20, inFlight: 29, deadLetters: 0 });
    await bus.ack(
      'agent',
      deliveries.slice(1).map((delivery) => delivery.deliveryId),
    );
    expect(await client.xlen(stream)).toBe(50);
    expect(await bus.stats('agent')).toEqual({ unread: 20, inFlight: 1, deadLetters: 0 });
    // That was 29 acks of this inbox: the 16th asked for a trim, which stopped at held.
    await bus.ack('agent', [held!.deliveryId]);
    expect(await client.xlen(stream)).toBe(50);
    // stats trims too, before it counts.
    expect(await bus.stats('agent')).toEqual({ unread: 20, inFlight: 0, deadLetters: 0 });
    expect(await client.xlen(stream)).toBe(20);
    const rest = await bus.read('agent', { max: 100, blockMs: 0 });
    expect(rest.map((delivery) => delivery.envelope.content)).toEqual(
      Array.from({ length: 20 }, (_, index) => String(30 + index)),
    );
    const ids = rest.map((delivery) => delivery.deliveryId);
    await bus.ack('agent', ids.slice(0, 10));
    expect(await client.xlen(stream)).toBe(20);
    // A read that finds the inbox drained trims up to the oldest delivery in flight.
    expect(await bus.read('agent', { blockMs: 0 })).toEqual([]);
    expect(await client.xlen(stream)).toBe(10);
    // The 16th ack since the last trim (held was the first) asks for one.
    await bus.ack('agent', ids.slice(10, 14));
    expect(await client.xlen(stream)).toBe(10);
    await bus.ack('agent', ids.slice(14, 15));
    expect(await client.xlen(stream)).toBe(5);
    expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 5, deadLetters: 0 });
  });

  it('never trims a nacked delivery away: it comes back first, after the acked entries around it were trimmed', async () => {
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace });
    const client = openClient();
    const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
    for (let index = 0; index < 40; index++) await bus.send({ from: 'host', to: 'agent', content: String(index) });
    const taken = await bus.read('agent', { max: 20, blockMs: 0 });
    await bus.nack('agent', taken[3]!.deliveryId, { error: new Error('retry me') });
    const acked = taken.filter((_, index) => index !== 3).map((delivery) => delivery.deliveryId);
    await bus.ack('agent', acked);
    // 19 acks asked for a trim: the 3 entries before the parked one went, the rest stay behind it.
    expect(await client.xlen(stream)).toBe(37);
    expect(await bus.stats('agent')).toEqual({ unread: 21, inFlight: 0, deadLetters: 0 });
    const [again, next] = await bus.read('agent', { max: 2, blockMs: 0 });
    expect(again).toMatchObject({ deliveryId: taken[3]!.deliveryId, attempt: 2, envelope: { content: '3' } });
    expect(again!.lastError?.message).toBe('retry me');
    expect(next!.envelope.content).toBe('20');
  });

  it('gives back what a read took when its signal fires mid-flight, keeping the attempt count', async () => {
    const bus = await openBus();
    await bus.send({ from: 'host', to: 'agent', content: 'x' });
    for (let round = 0; round < 10; round++) {
      const controller = new AbortController();
      const read = bus.read('agent', { blockMs: 0, signal: controller.signal });
      controller.abort(); // the read script is already on its way
      await expect(read).rejects.toMatchObject({ code: 'ABORTED' });
    }
    // The reads were answered at once; what they took is given back when their replies come
    // (and that wakes a blocked reader).
    const [delivery] = await bus.read('agent', { blockMs: 5_000 });
    expect(delivery!.envelope.content).toBe('x');
    expect(delivery!.attempt).toBe(1);
  });

  it('logs redeliveries (info) and dead letters (warn) with inbox, messageId, attempt and code (issue 12, item 8)', async () => {
    const lines: LogLine[] = [];
    const bus = await openBus({ logger: capturingLogger(lines), maxDeliveries: 2 });
    const sent = await bus.send({ from: 'host', to: 'agent', content: 'x' });
    const [first] = await bus.read('agent', { blockMs: 0 });
    await bus.nack('agent', first!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'boom') });
    expect(lines).toEqual([]);
    const [second] = await bus.read('agent', { blockMs: 0 });
    expect(second!.attempt).toBe(2);
    await bus.nack('agent', second!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'boom again') });
    expect(lines).toEqual([
      {
        level: 'info',
        fields: { inbox: 'agent', messageId: sent.id, deliveryId: first!.deliveryId, attempt: 2 },
        message: expect.stringMatching(/delivering a message again/),
      },
      {
        level: 'warn',
        fields: { inbox: 'agent', messageId: sent.id, attempts: 2, code: 'TOOL_FAILED' },
        message: expect.stringMatching(/dead letter/),
      },
    ]);
  });

  describe('hand-offs and reads fetched with an ack', () => {
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /**
     * Starts a blocked read and waits until the bus has armed the inbox for it. The read is
     * returned in an object: an async function returning the promise itself would wait for it.
     */
    async function blockedRead(
      bus: RedisStreamsBus,
      inbox: string,
      options: Parameters<RedisStreamsBus['read']>[1],
    ): Promise<{ read: Promise<Delivery[]> }> {
      const read = bus.read(inbox, options);
      read.catch(() => {});
      await wait(50);
      return { read };
    }

    /** Waits (a load-proof bound, 5 s) until the inbox `agent` is armed for a hand-off to `consumer`. */
    async function armedFor(namespace: string, consumer: string): Promise<void> {
      const client = openClient();
      for (let tries = 0; tries < 250; tries++) {
        const armed = await client.get(`agentrix:${namespace}:inbox:{agent}:armed`);
        if (armed?.endsWith(`\n${consumer}`)) return;
        await wait(20);
      }
      throw new Error(`the inbox was not armed for ${consumer}`);
    }

    it('hands a message to a blocked reader in the wake-up itself, with the lease taken by that reader', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const client = openClient();
      const { read } = await blockedRead(bus, 'agent', { consumer: 'w1' });
      expect(await client.get(`agentrix:${namespace}:inbox:{agent}:armed`)).toMatch(/\nw1$/);
      const sent = await bus.send({ from: 'host', to: 'agent', content: 'hi' });
      const [delivery] = await read;
      expect(delivery).toMatchObject({ envelope: { id: sent.id }, attempt: 1 });
      // Leased to w1 in Redis: another consumer cannot extend it, w1 can.
      expect(await bus.extendLease('agent', [delivery!.deliveryId], { consumer: 'other' })).toBe(0);
      expect(await bus.extendLease('agent', [delivery!.deliveryId], { consumer: 'w1' })).toBe(1);
      await bus.ack('agent', [delivery!.deliveryId]);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('does not strand a message when the armed reader went away (aborted, or its bus closed)', async () => {
      const namespace = `test-${randomUUID()}`;
      const first = await openBus({ namespace });
      const controller = new AbortController();
      const { read: aborted } = await blockedRead(first, 'agent', { consumer: 'w1', signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
      await wait(20);
      await first.send({ from: 'host', to: 'agent', content: 'after abort' });
      const [afterAbort] = await first.read('agent', { consumer: 'w2', blockMs: 0 });
      expect(afterAbort).toMatchObject({ envelope: { content: 'after abort' }, attempt: 1 });

      const second = await openBus({ namespace });
      const { read: closing } = await blockedRead(second, 'agent', { consumer: 'w3' });
      await second.close();
      expect(await closing).toEqual([]);
      const started = Date.now();
      const waiting = first.read('agent', { consumer: 'w4', blockMs: 5000 });
      await wait(20);
      await first.send({ from: 'host', to: 'agent', content: 'after close' });
      const [afterClose] = await waiting;
      expect(afterClose).toMatchObject({ envelope: { content: 'after close' }, attempt: 1 });
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('acks a handed-off message without reading the inbox it left empty, and hands the next one off too', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const inboxKeys = `agentrix:${namespace}:inbox:{agent}:`;
      // Every command Redis runs on this inbox's keys, those inside scripts included.
      const monitor = await openClient().monitor();
      cleanups.push(() => monitor.disconnect());
      const commands: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args.some((arg) => arg.startsWith(inboxKeys))) commands.push(args[0]!.toUpperCase());
      });
      const { read: first } = await blockedRead(bus, 'agent', { consumer: 'loop' });
      await armedFor(namespace, 'loop');
      for (const content of ['one', 'two']) {
        const read = content === 'one' ? first : bus.read('agent', { consumer: 'loop' });
        await bus.send({ from: 'host', to: 'agent', content });
        const [delivery] = await read;
        expect(delivery).toMatchObject({ envelope: { content }, attempt: 1 });
        await bus.ack('agent', [delivery!.deliveryId]);
      }
      // Per message: the send's XADD, the GETDEL of the arm and the XREADGROUP of its hand-off; the
      // ack's XACK, XDEL and XLEN, which found the stream empty (no EXISTS of the markers, no
      // XREADGROUP finding nothing, no XPENDING), and the SET of the next arm. (MONITOR reports
      // late under load: the blocked read's own commands come before the first XADD, and the
      // last ones may still be on their way.)
      const perMessage = ['XADD', 'GETDEL', 'XREADGROUP', 'XACK', 'XDEL', 'XLEN', 'SET'];
      const sent = () => commands.slice(commands.indexOf('XADD'));
      for (let tries = 0; tries < 250 && sent().length < 2 * perMessage.length; tries++) await wait(20);
      expect(sent()).toEqual([...perMessage, ...perMessage]);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('after the ack of a handed-off message, a delivery parked meanwhile comes before the unread ones', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const other = await openBus({ namespace });
      const client = openClient();
      const { read: first } = await blockedRead(bus, 'agent', { consumer: 'loop' });
      await bus.send({ from: 'host', to: 'agent', content: 'one' });
      const [one] = await first;
      // Meanwhile another process takes 'two' and nacks it (parked), and 'three' arrives unread.
      await other.send({ from: 'host', to: 'agent', content: 'two' });
      const [two] = await other.read('agent', { consumer: 'other', blockMs: 0 });
      expect(two).toMatchObject({ envelope: { content: 'two' } });
      await other.nack('agent', two!.deliveryId, { error: new Error('retry me') });
      await other.send({ from: 'host', to: 'agent', content: 'three' });
      // The loop's ack looks at the markers only because the stream is not empty: 'two' first.
      await bus.ack('agent', [one!.deliveryId]);
      const [again] = await bus.read('agent', { consumer: 'loop' });
      expect(again).toMatchObject({ envelope: { content: 'two' }, attempt: 2, lastError: { message: 'retry me' } });
      await bus.ack('agent', [again!.deliveryId]);
      const [three] = await bus.read('agent', { consumer: 'loop' });
      expect(three).toMatchObject({ envelope: { content: 'three' }, attempt: 1 });
      await bus.ack('agent', [three!.deliveryId]);
      // The drained inbox keeps no error behind.
      await wait(50);
      expect(await client.exists(`agentrix:${namespace}:inbox:{agent}:errors`)).toBe(0);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('drops the error of a handed-off delivery nacked and then acked once the inbox drains', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const client = openClient();
      const errors = `agentrix:${namespace}:inbox:{agent}:errors`;
      const { read: first } = await blockedRead(bus, 'agent', { consumer: 'loop' });
      await bus.send({ from: 'host', to: 'agent', content: 'one' });
      const [one] = await first;
      await bus.nack('agent', one!.deliveryId, { error: new Error('changed my mind') });
      expect(await client.exists(errors)).toBe(1);
      // A late ack of the nacked delivery: the stream is then empty, so its ack skips the markers.
      await bus.ack('agent', [one!.deliveryId]);
      expect(await bus.read('agent', { consumer: 'loop', blockMs: 0 })).toEqual([]);
      expect(await client.exists(errors)).toBe(0);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    /** Reads `count` messages as a reader loop does (read max 1, ack), returning content and attempt of each. */
    async function loop(bus: RedisStreamsBus, count: number): Promise<Array<[string, number]>> {
      const seen: Array<[string, number]> = [];
      for (let index = 0; index < count; index++) {
        const [delivery] = await bus.read('agent', { consumer: 'loop', max: 1 });
        seen.push([delivery!.envelope.content as string, delivery!.attempt]);
        await bus.ack('agent', [delivery!.deliveryId]);
      }
      return seen;
    }

    it("fetches a backlog's next message with a plain XREADGROUP, a delivery parked meanwhile first", async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const other = await openBus({ namespace });
      const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
      // XREADGROUPs of the loop on the inbox's stream sent as commands of their own, not from a script.
      const monitor = await openClient().monitor();
      cleanups.push(() => monitor.disconnect());
      let plainReads = 0;
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (
          args[0]!.toUpperCase() === 'XREADGROUP' &&
          args.includes(stream) &&
          args.includes('loop') &&
          source !== 'lua'
        ) {
          plainReads++;
        }
      });
      for (const content of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']) {
        await bus.send({ from: 'host', to: 'agent', content });
      }
      // Two fetches that take what they ask for (m2, m3) show a backlog: the next fetches are plain.
      const [m1] = await bus.read('agent', { consumer: 'loop', max: 1 });
      await bus.ack('agent', [m1!.deliveryId]);
      const [m2] = await bus.read('agent', { consumer: 'loop', max: 1 });
      await bus.ack('agent', [m2!.deliveryId]);
      const [m3] = await bus.read('agent', { consumer: 'loop', max: 1 });
      expect(m3).toMatchObject({ envelope: { content: 'm3' } });
      // Another process takes m4 and nacks it: parked, it must come back before m5.
      const [m4] = await other.read('agent', { consumer: 'other', max: 1, blockMs: 0 });
      expect(m4).toMatchObject({ envelope: { content: 'm4' } });
      await other.nack('agent', m4!.deliveryId, { error: new Error('retry me') });
      // The loop's ack fetches: its plain read takes m5, its script puts m4 (parked) before it.
      await bus.ack('agent', [m3!.deliveryId]);
      expect(await loop(bus, 4)).toEqual([
        ['m4', 2],
        ['m5', 1],
        ['m6', 1],
        ['m7', 1],
      ]);
      for (let tries = 0; tries < 250 && plainReads === 0; tries++) await wait(20);
      expect(plainReads).toBeGreaterThan(0);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('fetches four messages for a busy loop with short turns, and a nack comes back before the ones held', async () => {
      const namespace = `test-${randomUUID()}`;
      // Time stands still, so every turn is short whatever the machine's load.
      const bus = await openBus({ namespace, clock: { ...systemClock, now: () => 1_700_000_000_000 } });
      const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
      const monitor = await openClient().monitor();
      cleanups.push(() => monitor.disconnect());
      let fourReads = 0;
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const count = args.findIndex((arg) => arg.toUpperCase() === 'COUNT');
        if (
          args[0]!.toUpperCase() === 'XREADGROUP' &&
          args.includes(stream) &&
          source !== 'lua' &&
          args[count + 1] === '4'
        )
          fourReads++;
      });
      for (let index = 1; index <= 8; index++) await bus.send({ from: 'host', to: 'agent', content: `m${index}` });
      // m1, m2, m3 one at a time (two full fetches show a backlog); the ack of m3 fetches m4 to m7.
      expect(await loop(bus, 3)).toEqual([
        ['m1', 1],
        ['m2', 1],
        ['m3', 1],
      ]);
      const [m4] = await bus.read('agent', { consumer: 'loop', max: 1 });
      expect(m4).toMatchObject({ envelope: { content: 'm4' }, attempt: 1 });
      for (let tries = 0; tries < 250 && fourReads === 0; tries++) await wait(20);
      expect(fourReads).toBeGreaterThan(0);
      // m5 to m7 wait for the loop; the nack of m4 parks them first, so m4 comes back before them.
      await bus.nack('agent', m4!.deliveryId, { error: new Error('again') });
      expect(await loop(bus, 5)).toEqual([
        ['m4', 2],
        ['m5', 1],
        ['m6', 1],
        ['m7', 1],
        ['m8', 1],
      ]);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('writes a plain fetch and the ack script beside it to the socket in one write', async () => {
      const namespace = `test-${randomUUID()}`;
      const client = openClient();
      await client.ping();
      const bus = await openBus({ namespace, client: client as unknown as RedisClientLike });
      // The commands of each write the bus's socket makes: Node writes corked chunks with _writev.
      type Chunk = { chunk: string | Buffer };
      const socket = client.stream as unknown as {
        _write(chunk: string | Buffer, encoding: string, callback: () => void): void;
        _writev(chunks: Chunk[], callback: () => void): void;
      };
      const commandOf = (chunk: string | Buffer) => String(chunk).split('\r\n')[2]!.toUpperCase();
      const writes: string[][] = [];
      const write = socket._write.bind(socket);
      const writev = socket._writev.bind(socket);
      socket._write = (chunk, encoding, callback) => {
        writes.push([commandOf(chunk)]);
        write(chunk, encoding, callback);
      };
      socket._writev = (chunks, callback) => {
        writes.push(chunks.map(({ chunk }) => commandOf(chunk)));
        writev(chunks, callback);
      };
      for (const content of ['m1', 'm2', 'm3', 'm4', 'm5']) await bus.send({ from: 'host', to: 'agent', content });
      // The acks of m3 and m4 fetch plain (m2 and m3 were a backlog).
      expect((await loop(bus, 5)).map(([content]) => content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      const plain = writes.filter((commands) => commands.includes('XREADGROUP'));
      expect(plain.length).toBeGreaterThan(0);
      for (const commands of plain) expect(commands).toEqual(['XREADGROUP', 'EVALSHA']);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('arms the inbox for the loop when a plain fetch finds nothing more', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const client = openClient();
      for (const content of ['m1', 'm2', 'm3', 'm4']) await bus.send({ from: 'host', to: 'agent', content });
      // The ack of m4 fetches plain (m2 and m3 were a backlog) and finds nothing: the script reads and arms.
      expect(await loop(bus, 4)).toEqual([
        ['m1', 1],
        ['m2', 1],
        ['m3', 1],
        ['m4', 1],
      ]);
      expect(await client.get(`agentrix:${namespace}:inbox:{agent}:armed`)).toMatch(/\nloop$/);
      const reading = bus.read('agent', { consumer: 'loop', max: 1 });
      await bus.send({ from: 'host', to: 'agent', content: 'm5' });
      const [m5] = await reading;
      expect(m5).toMatchObject({ envelope: { content: 'm5' }, attempt: 1 });
      await bus.ack('agent', [m5!.deliveryId]);
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    });

    it('dead-letters an entry without an envelope that a plain fetch took, and delivers the next', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace });
      const client = openClient();
      for (const content of ['m1', 'm2', 'm3']) await bus.send({ from: 'host', to: 'agent', content });
      const [m1] = await bus.read('agent', { consumer: 'loop', max: 1 });
      await bus.ack('agent', [m1!.deliveryId]);
      const [m2] = await bus.read('agent', { consumer: 'loop', max: 1 });
      await bus.ack('agent', [m2!.deliveryId]);
      const [m3] = await bus.read('agent', { consumer: 'loop', max: 1 });
      await client.xadd(`agentrix:${namespace}:inbox:{agent}:stream`, '*', 'not-an-envelope', 'x');
      await bus.send({ from: 'host', to: 'agent', content: 'm4' });
      // The ack of m3 fetches plain and takes the entry without an envelope.
      await bus.ack('agent', [m3!.deliveryId]);
      expect(await loop(bus, 1)).toEqual([['m4', 1]]);
      const [letter] = await bus.deadLetters('agent');
      expect(letter).toMatchObject({ envelope: { type: 'malformed' }, error: { code: 'INVALID_MESSAGE' } });
      expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 1 });
    });

    it('redelivers a message handed to a reader that died, after its lease, to a reader that waits', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace, leaseMs: 300 });
      const client = openClient();
      const { read } = await blockedRead(bus, 'agent', { consumer: 'live', blockMs: 5000 });
      // A process that died while armed leaves its hand-off arm behind.
      await client.set(`agentrix:${namespace}:inbox:{agent}:armed`, 'dead-bus-token\nghost');
      const started = Date.now();
      const sent = await bus.send({ from: 'host', to: 'agent', content: 'x' });
      const [delivery] = await read;
      expect(delivery).toMatchObject({ envelope: { id: sent.id }, attempt: 2 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it("fetches a reader loop's next message with its ack, and gives it back when the reader does not return", async () => {
      const bus = await openBus({ leaseMs: 2000 });
      const { read: reading } = await blockedRead(bus, 'agent', { consumer: 'loop' });
      await bus.send({ from: 'host', to: 'agent', content: 'one' });
      const [one] = await reading;
      await bus.send({ from: 'host', to: 'agent', content: 'two' });
      await bus.send({ from: 'host', to: 'agent', content: 'three' });
      await bus.ack('agent', [one!.deliveryId]);
      // 'two' came back with the ack: it is leased to the loop until its next read.
      expect(await bus.stats('agent')).toEqual({ unread: 1, inFlight: 1, deadLetters: 0 });
      const [two] = await bus.read('agent', { consumer: 'loop' });
      expect(two).toMatchObject({ envelope: { content: 'two' }, attempt: 1 });
      // Another consumer is not given what was fetched for the loop.
      await bus.ack('agent', [two!.deliveryId]);
      const [three] = await bus.read('agent', { consumer: 'someone-else', blockMs: 0 });
      expect(three).toBeUndefined();
      // The loop never comes back: the fetched message is given back, its attempt count kept.
      await wait(600);
      expect(await bus.stats('agent')).toEqual({ unread: 1, inFlight: 0, deadLetters: 0 });
      const [again] = await bus.read('agent', { consumer: 'someone-else', blockMs: 0 });
      expect(again).toMatchObject({ envelope: { content: 'three' }, attempt: 1 });
    });

    it('gives back what it holds for a reader loop when the bus closes', async () => {
      const namespace = `test-${randomUUID()}`;
      const bus = await openBus({ namespace, leaseMs: 60_000 });
      const { read: reading } = await blockedRead(bus, 'agent', { consumer: 'loop' });
      await bus.send({ from: 'host', to: 'agent', content: 'one' });
      const [one] = await reading;
      await bus.send({ from: 'host', to: 'agent', content: 'two' });
      await bus.ack('agent', [one!.deliveryId]);
      await bus.close();
      const other = await openBus({ namespace });
      const [two] = await other.read('agent', { consumer: 'next', blockMs: 0 });
      expect(two).toMatchObject({ envelope: { content: 'two' }, attempt: 1 });
    });
  });
});

async function connectionsNamed(client: Redis, name: string): Promise<number> {
  const list = (await client.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}
