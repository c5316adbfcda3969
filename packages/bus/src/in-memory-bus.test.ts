import {
  AgentrixError,
  type AgentrixEventMap,
  AgentrixEvents,
  createSequentialIds,
  REPLY_INBOX_PREFIX,
} from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { createInMemoryBus, InMemoryBus } from './index.js';
import { capturingLogger, type LogLine } from './logger-test-support.js';
import { messageBusContract } from './message-bus.contract.js';

messageBusContract('InMemoryBus', (options) => createInMemoryBus(options));

function errorOf(action: () => unknown): AgentrixError {
  try {
    action();
  } catch (error) {
    if (AgentrixError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an AgentrixError');
}

describe('InMemoryBus', () => {
  describe('options', () => {
    it('rejects invalid options with INVALID_ARGUMENT naming each field', () => {
      const error = errorOf(
        () =>
          new InMemoryBus({
            leaseMs: -1,
            maxDeliveries: 0,
            consumer: 'has space',
            maxMessageBytes: 1.5,
            dedupeWindow: -3,
          }),
      );
      expect(error.code).toBe('INVALID_ARGUMENT');
      for (const field of ['leaseMs', 'maxDeliveries', 'consumer', 'maxMessageBytes', 'dedupeWindow']) {
        expect(error.message).toContain(field);
      }
      expect(errorOf(() => new InMemoryBus({ clock: { now: () => 0 } as never })).message).toContain('clock');
      expect(errorOf(() => new InMemoryBus({ generateId: 'x' as never })).message).toContain('generateId');
      expect(errorOf(() => createInMemoryBus({ events: 42 as never })).message).toContain('events');
    });

    it('accepts no options', async () => {
      const bus = createInMemoryBus();
      expect(bus).toBeInstanceOf(InMemoryBus);
      await bus.close();
    });

    it('uses the injected clock, id generator and default consumer', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock, generateId: createSequentialIds('m'), consumer: 'worker-1' });
      const first = await bus.send({ from: 'host', to: 'a', content: 'x' });
      const second = await bus.send({ from: 'host', to: 'a', content: 'y' });
      expect([first.id, second.id]).toEqual(['m-1', 'm-2']);
      expect(first.createdAt).toBe(clock.now());
      await bus.read('a', { blockMs: 0 });
      expect(await bus.releaseConsumer('a', 'worker-1')).toBe(2);
      await bus.close();
    });

    it('forgets the oldest ids beyond dedupeWindow, and de-duplicates nothing with 0', async () => {
      const bus = new InMemoryBus({ dedupeWindow: 2 });
      for (const id of ['a', 'b', 'c', 'a', 'c']) await bus.send({ id, from: 'host', to: 'inbox', content: id });
      expect((await bus.read('inbox', { blockMs: 0 })).map((delivery) => delivery.envelope.id)).toEqual([
        'a',
        'b',
        'c',
        'a',
      ]);
      const off = new InMemoryBus({ dedupeWindow: 0 });
      await off.send({ id: 'same', from: 'host', to: 'inbox', content: '1' });
      await off.send({ id: 'same', from: 'host', to: 'inbox', content: '2' });
      expect((await off.stats('inbox')).unread).toBe(2);
      await Promise.all([bus.close(), off.close()]);
    });

    it('does not remember the ids of asks and replies (to or answered at a reply inbox)', async () => {
      const bus = new InMemoryBus();
      const ask = { id: 'ask-1', from: 'host', to: 'agent', replyTo: `${REPLY_INBOX_PREFIX}h1`, content: 'q' };
      const reply = { id: 'reply-1', from: 'agent', to: `${REPLY_INBOX_PREFIX}h1`, content: 'a' };
      const other = { id: 'm-1', from: 'host', to: 'agent', replyTo: 'agent-2', content: 'q' };
      for (const message of [ask, ask, reply, reply, other, other]) await bus.send(message);
      expect((await bus.stats('agent')).unread).toBe(3);
      expect((await bus.stats(`${REPLY_INBOX_PREFIX}h1`)).unread).toBe(2);
      await bus.close();
    });

    it('rejects data that cannot become JSON with INVALID_MESSAGE', async () => {
      const bus = new InMemoryBus();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(bus.send({ from: 'host', to: 'a', content: 'x', data: circular })).rejects.toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      await expect(bus.send({ from: 'host', to: 'a', content: 'x', data: 10n })).rejects.toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      await bus.close();
    });
  });

  describe('events', () => {
    it('emits message.sent and message.dead-lettered', async () => {
      const events = new AgentrixEvents();
      const sent: AgentrixEventMap['message.sent'][] = [];
      const dead: AgentrixEventMap['message.dead-lettered'][] = [];
      events.on('message.sent', (event) => sent.push(event));
      events.on('message.dead-lettered', (event) => dead.push(event));
      const bus = new InMemoryBus({ events, maxDeliveries: 1 });
      const envelope = await bus.send({ from: 'host', to: 'a', content: 'x' });
      expect(sent).toEqual([{ envelope }]);
      const [delivery] = await bus.read('a', { blockMs: 0 });
      await bus.nack('a', delivery!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'nope') });
      expect(dead).toEqual([
        { inbox: 'a', envelope, attempts: 1, error: expect.objectContaining({ code: 'TOOL_FAILED', message: 'nope' }) },
      ]);
      await bus.close();
    });
  });

  describe('timers', () => {
    it('uses one timer for a finite blockMs, none without it, and clears it when woken', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock });
      const forever = bus.read('a');
      expect(clock.pendingTimers).toBe(0);
      const bounded = bus.read('b', { blockMs: 1000 });
      expect(clock.pendingTimers).toBe(1);
      await bus.send({ from: 'host', to: 'b', content: 'x' });
      expect((await bounded).length).toBe(1);
      expect(clock.pendingTimers).toBe(0);
      const timedOut = bus.read('c', { blockMs: 500 });
      await clock.advance(499);
      await clock.advance(1);
      expect(await timedOut).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
      await bus.close();
      expect(await forever).toEqual([]);
    });

    it('redelivers on lease expiry with the injected clock, with one lease timer per inbox', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock, leaseMs: 1000 });
      await bus.send({ from: 'host', to: 'a', content: 'x' });
      await bus.read('a', { consumer: 'crashed', blockMs: 0 });
      await clock.advance(999);
      expect(await bus.read('a', { consumer: 'other', blockMs: 0 })).toEqual([]);
      expect(clock.pendingTimers).toBe(0); // nobody waits: no lease timer

      const waiting = [bus.read('a', { consumer: 'w1' }), bus.read('a', { consumer: 'w2' })];
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(1);
      const first = await waiting[0]!;
      expect(first.map((delivery) => delivery.attempt)).toEqual([2]);
      // w2 still waits and w1 now holds a lease: still exactly one lease timer
      expect(clock.pendingTimers).toBe(1);
      await bus.ack('a', [first[0]!.deliveryId]);
      // The timer is not cleared on ack (that would cost a timer per message): it fires, finds
      // nothing in flight, and is not armed again.
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(1000);
      expect(clock.pendingTimers).toBe(0);
      // The lapsed timer is dropped (an idle inbox holds none); the next lease gets a new one.
      await bus.send({ from: 'host', to: 'a', content: 'y' });
      const second = await waiting[1]!;
      expect(second.map((delivery) => delivery.attempt)).toEqual([1]);
      const third = bus.read('a', { consumer: 'w3' });
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(1000);
      expect((await third).map((delivery) => delivery.envelope.content)).toEqual(['y']);
      expect((await bus.stats('a')).inFlight).toBe(1);
      await bus.close();
    });

    it('a blocking read whose inbox timer watches the leases waits without a clock read; an ended lease comes from the timer', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock, leaseMs: 1000 });
      await bus.send({ from: 'host', to: 'a', content: 'x' });
      await bus.read('a', { consumer: 'crashed', blockMs: 0 });
      // A reader that waited and left armed the lease timer for that lease.
      const leaving = new AbortController();
      const left = bus.read('a', { consumer: 'w0', signal: leaving.signal });
      leaving.abort();
      await expect(left).rejects.toMatchObject({ code: 'ABORTED' });
      expect(clock.pendingTimers).toBe(1);
      clock.set(1_000_000 + 1500); // the lease ended; its timer has not fired yet
      const now = vi.spyOn(clock, 'now');
      const waiting = bus.read('a', { consumer: 'w1' });
      // An agent reads its next message while its turn's delivery is in flight: no clock read then.
      expect(now).not.toHaveBeenCalled();
      now.mockRestore();
      await clock.advance(0); // the overdue timer hands the ended lease to the waiting reader
      expect((await waiting).map((delivery) => delivery.attempt)).toEqual([2]);
      await bus.close();
    });

    it('lets the lease timer lapse when the waiting reader leaves', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock });
      await bus.send({ from: 'host', to: 'a', content: 'x' });
      await bus.read('a', { consumer: 'holder', blockMs: 0 });
      const controller = new AbortController();
      const waiting = bus.read('a', { consumer: 'other', signal: controller.signal });
      expect(clock.pendingTimers).toBe(1);
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
      // Still armed until its time: then it redelivers nothing (nobody waits) and lapses.
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(60_000);
      expect(clock.pendingTimers).toBe(0);
      expect((await bus.stats('a')).inFlight).toBe(0);
      await bus.close();
    });

    it('leaves no timers behind after close', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock, leaseMs: 5000 });
      await bus.send({ from: 'host', to: 'held', content: 'x' });
      await bus.read('held', { consumer: 'holder', blockMs: 0 });
      const reads = [
        bus.read('held', { consumer: 'waiter', blockMs: 60_000 }),
        ...Array.from({ length: 50 }, (_, index) => bus.read(`idle-${index}`, { blockMs: 60_000 })),
        ...Array.from({ length: 50 }, (_, index) => bus.read(`forever-${index}`)),
      ];
      expect(clock.pendingTimers).toBe(52); // 51 blockMs timers + 1 lease timer
      await bus.close();
      expect(clock.pendingTimers).toBe(0);
      for (const deliveries of await Promise.all(reads)) expect(deliveries).toEqual([]);
    });

    it('shares one abort listener among the reads of a signal, and a woken read is not rejected by a later abort', async () => {
      const bus = new InMemoryBus();
      const controller = new AbortController();
      const added: string[] = [];
      const signal = controller.signal;
      const add = signal.addEventListener.bind(signal);
      signal.addEventListener = ((type: string, listener: () => void, options?: { once?: boolean }) => {
        added.push(type);
        add(type, listener, options);
      }) as typeof signal.addEventListener;
      for (let round = 0; round < 3; round++) {
        const read = bus.read('a', { signal });
        await bus.send({ from: 'host', to: 'a', content: String(round) });
        expect(await read).toHaveLength(1);
      }
      expect(added).toEqual(['abort']);
      const waiting = bus.read('a', { signal });
      controller.abort(); // rejects the waiting read only
      await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
      await bus.close();
    });
  });

  it('acks at once with ackNow: undefined, and the delivery is gone before it returns', async () => {
    const bus = new InMemoryBus();
    await bus.send({ from: 'host', to: 'a', content: 'x' });
    const [delivery] = await bus.read('a', { blockMs: 0 });
    expect(bus.ackNow('a', [delivery!.deliveryId])).toBeUndefined();
    expect(await bus.stats('a')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    await bus.close();
  });

  describe('close', () => {
    it('returns the same promise twice and rejects every other call with CLOSED', async () => {
      const bus = new InMemoryBus();
      await bus.createGroup('team');
      const first = bus.close();
      expect(bus.close()).toBe(first);
      await first;
      const calls: Promise<unknown>[] = [
        bus.send({ from: 'host', to: 'a', content: 'x' }),
        bus.broadcast({ group: 'team', from: 'host', content: 'x' }),
        bus.read('a'),
        bus.ack('a', ['1']),
        bus.nack('a', '1'),
        bus.releaseConsumer('a', 'c'),
        bus.stats('a'),
        bus.deadLetters('a'),
        bus.redrive('a'),
        bus.discardDeadLetters('a', ['1']),
        bus.deleteInbox('a'),
        bus.createGroup('g'),
        bus.deleteGroup('g'),
        bus.join('g', 'm'),
        bus.leave('g', 'm'),
        bus.members('g'),
        bus.groups(),
      ];
      for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('works with await using', async () => {
      let blocked: Promise<unknown> | undefined;
      {
        await using bus = new InMemoryBus();
        blocked = bus.read('a');
      }
      expect(await blocked).toEqual([]);
    });
  });

  describe('inboxes', () => {
    it('keeps a reader blocked across deleteInbox and still wakes it', async () => {
      const bus = new InMemoryBus();
      const read = bus.read('a');
      await bus.deleteInbox('a');
      await bus.send({ from: 'host', to: 'a', content: 'after delete' });
      expect((await read).map((delivery) => delivery.envelope.content)).toEqual(['after delete']);
      await bus.close();
    });

    it('keeps redelivery order: expired and released deliveries first, in their order', async () => {
      const clock = new FakeClock(1_000_000);
      const bus = new InMemoryBus({ clock, leaseMs: 100 });
      for (const content of ['1', '2', '3', '4', '5']) await bus.send({ from: 'host', to: 'a', content });
      await bus.read('a', { consumer: 'x', max: 2, blockMs: 0 });
      await clock.advance(50);
      await bus.read('a', { consumer: 'y', max: 1, blockMs: 0 });
      await clock.advance(50); // x's leases (1, 2) expire; y's (3) does not
      const next = await bus.read('a', { consumer: 'z', max: 10, blockMs: 0 });
      expect(next.map((delivery) => [delivery.envelope.content, delivery.attempt])).toEqual([
        ['1', 2],
        ['2', 2],
        ['4', 1],
        ['5', 1],
      ]);
      await bus.close();
    });
  });
});

describe('InMemoryBus logging (issue 12, item 8)', () => {
  it('logs redeliveries (info) and dead letters (warn) with inbox, messageId, attempt and code', async () => {
    const lines: LogLine[] = [];
    const bus = createInMemoryBus({ logger: capturingLogger(lines), maxDeliveries: 2 });
    const sent = await bus.send({ from: 'host', to: 'agent', content: 'x' });
    const [first] = await bus.read('agent', { blockMs: 0 });
    await bus.nack('agent', first!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'boom') });
    expect(lines).toEqual([]);
    const [second] = await bus.read('agent', { blockMs: 0 });
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
    await bus.close();
  });

  it('rejects a logger that is not one', () => {
    expect(() => createInMemoryBus({ logger: {} as never })).toThrow(/logger/);
  });
});
