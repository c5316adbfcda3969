import { randomUUID } from 'node:crypto';
import { AgentrixError, type Clock, type Delivery, type MessageBus, type MessageEnvelope } from '@agentrix/core';
import { afterEach, describe, expect, it } from 'vitest';

/** The knobs every bus must take so the contract can exercise leases, dead letters and limits. */
export interface MessageBusContractOptions {
  clock?: Clock;
  leaseMs?: number;
  maxDeliveries?: number;
  maxMessageBytes?: number;
}

export type CreateMessageBus = (options: MessageBusContractOptions) => Promise<MessageBus> | MessageBus;
/** Releases a bus after a test (default: `bus.close()`); it may be called on a closed bus. */
export type CleanupMessageBus = (bus: MessageBus) => Promise<void> | void;

/** A fresh prefix per test, so tests never share inboxes or groups (even on a shared Redis). */
function namespace(): string {
  return `test-${randomUUID()}`;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Awaits a promise that must reject with an AgentrixError of `code`, and returns the error. */
async function rejection(promise: Promise<unknown>, code: string): Promise<AgentrixError> {
  const outcome = await promise.then(
    (value) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected a rejection with ${code}, got ${JSON.stringify(outcome.value)}`);
  expect(AgentrixError.isInstance(outcome.error), `expected an AgentrixError, got ${String(outcome.error)}`).toBe(true);
  expect((outcome.error as AgentrixError).code).toBe(code);
  return outcome.error as AgentrixError;
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

function contents(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.envelope.content);
}

function deliveryIds(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.deliveryId);
}

/**
 * Registers the behaviour every {@link MessageBus} must have, as one vitest `describe` block.
 * Run it once per implementation:
 *
 * ```ts
 * messageBusContract('InMemoryBus', (options) => new InMemoryBus(options));
 * ```
 *
 * Lease tests use real time with leases of 50-100 ms, so they hold for buses whose leases are
 * kept by a server (Redis) as well.
 */
export function messageBusContract(name: string, createBus: CreateMessageBus, cleanup?: CleanupMessageBus): void {
  describe(`MessageBus contract: ${name}`, () => {
    const opened: MessageBus[] = [];

    async function openBus(options: MessageBusContractOptions = {}): Promise<MessageBus> {
      const bus = await createBus(options);
      opened.push(bus);
      return bus;
    }

    afterEach(async () => {
      for (const bus of opened.splice(0)) {
        if (cleanup) await cleanup(bus);
        else await bus.close();
      }
    });

    describe('send, read, ack', () => {
      it('fills id, type and createdAt, delivers the envelope once and forgets it after ack', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.alice`;
        const before = Date.now();
        const sent = await bus.send({
          from: `${ns}.bob`,
          to: inbox,
          content: 'hello',
          data: { n: 1, list: ['a', null, true], nested: { x: 'y' } },
          replyTo: `${ns}.bob`,
          correlationId: 'conversation-1',
          headers: { trace: 't-1' },
        });
        expect(sent.id).toEqual(expect.any(String));
        expect(sent.id.length).toBeGreaterThan(0);
        expect(sent.type).toBe('message');
        expect(sent.createdAt).toBeGreaterThanOrEqual(before - 1000);
        expect(sent.createdAt).toBeLessThanOrEqual(Date.now() + 1000);

        const deliveries = await bus.read(inbox, { consumer: 'c1', blockMs: 0 });
        expect(deliveries).toHaveLength(1);
        const [delivery] = deliveries;
        expect(delivery!.attempt).toBe(1);
        expect(delivery!.lastError).toBeUndefined();
        expect(delivery!.envelope).toEqual(sent);
        expect(delivery!.envelope).toMatchObject({
          from: `${ns}.bob`,
          to: inbox,
          content: 'hello',
          data: { n: 1, list: ['a', null, true], nested: { x: 'y' } },
          replyTo: `${ns}.bob`,
          correlationId: 'conversation-1',
          headers: { trace: 't-1' },
        });
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 1, deadLetters: 0 });

        await bus.ack(inbox, [delivery!.deliveryId]);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
        expect(await bus.read(inbox, { consumer: 'c1', blockMs: 0 })).toEqual([]);
        expect(await bus.read(inbox, { consumer: 'c2', blockMs: 0 })).toEqual([]);
      });

      it('carries a W3C trace context (envelope.trace) and refuses a malformed one', async () => {
        const bus = await openBus();
        const ns = namespace();
        const trace = {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: 'vendor=abc',
        };
        const sent = await bus.send({ from: 'host', to: `${ns}.a`, content: 'traced', trace });
        const [delivery] = await bus.read(`${ns}.a`, { consumer: 'c1', blockMs: 0 });
        expect(delivery!.envelope.trace).toEqual(trace);
        expect(sent.trace).toEqual(trace);
        await expect(
          bus.send({ from: 'host', to: `${ns}.a`, content: 'x', trace: { traceparent: 'not-a-traceparent' } }),
        ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
      });

      it('keeps a type the sender chose', async () => {
        const bus = await openBus();
        const ns = namespace();
        const sent = await bus.send({ from: 'cron', to: `${ns}.a`, content: '', type: 'tick' });
        expect(sent.type).toBe('tick');
        const [delivery] = await bus.read(`${ns}.a`, { blockMs: 0 });
        expect(delivery!.envelope.type).toBe('tick');
      });

      it('keeps send order per inbox and respects max', async () => {
        const bus = await openBus();
        const ns = namespace();
        for (let index = 0; index < 30; index++) {
          await bus.send({ from: 'host', to: `${ns}.a`, content: `a${index}` });
          await bus.send({ from: 'host', to: `${ns}.b`, content: `b${index}` });
        }
        for (const inbox of ['a', 'b']) {
          const received: string[] = [];
          for (;;) {
            const deliveries = await bus.read(`${ns}.${inbox}`, { max: 7, blockMs: 0 });
            if (deliveries.length === 0) break;
            expect(deliveries.length).toBeLessThanOrEqual(7);
            received.push(...contents(deliveries));
            await bus.ack(`${ns}.${inbox}`, deliveryIds(deliveries));
          }
          expect(received).toEqual(Array.from({ length: 30 }, (_, index) => `${inbox}${index}`));
        }
      });

      it('ignores unknown delivery ids and a second ack', async () => {
        const bus = await openBus();
        const ns = namespace();
        await bus.send({ from: 'host', to: `${ns}.a`, content: 'x' });
        const deliveries = await bus.read(`${ns}.a`, { blockMs: 0 });
        await bus.ack(`${ns}.a`, deliveryIds(deliveries));
        await expect(bus.ack(`${ns}.a`, deliveryIds(deliveries))).resolves.toBeUndefined();
        await expect(bus.ack(`${ns}.a`, ['no-such-delivery'])).resolves.toBeUndefined();
        await expect(bus.ack(`${ns}.never-used`, ['no-such-delivery'])).resolves.toBeUndefined();
        expect(await bus.stats(`${ns}.a`)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });

      it('counts unread, in-flight and dead letters in stats', async () => {
        const bus = await openBus({ maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
        for (const content of ['1', '2', '3', '4']) await bus.send({ from: 'host', to: inbox, content });
        expect(await bus.stats(inbox)).toEqual({ unread: 4, inFlight: 0, deadLetters: 0 });
        const deliveries = await bus.read(inbox, { max: 2, blockMs: 0 });
        expect(await bus.stats(inbox)).toEqual({ unread: 2, inFlight: 2, deadLetters: 0 });
        await bus.ack(inbox, [deliveries[0]!.deliveryId]);
        expect(await bus.stats(inbox)).toEqual({ unread: 2, inFlight: 1, deadLetters: 0 });
        await bus.nack(inbox, deliveries[1]!.deliveryId, { error: new Error('bad') });
        await bus.read(inbox, { max: 1, blockMs: 0 }); // the nacked one is spent: dead letter
        const after = await bus.stats(inbox);
        expect(after.deadLetters).toBe(1);
        expect(after.unread + after.inFlight).toBe(2);
      });

      it('drops everything in an inbox on deleteInbox', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.a`;
        for (const content of ['1', '2', '3']) await bus.send({ from: 'host', to: inbox, content });
        await bus.read(inbox, { max: 1, blockMs: 0 });
        await bus.deleteInbox(inbox);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
        expect(await bus.read(inbox, { blockMs: 0 })).toEqual([]);
        await bus.send({ from: 'host', to: inbox, content: 'after' });
        expect(contents(await bus.read(inbox, { blockMs: 0 }))).toEqual(['after']);
        await expect(bus.deleteInbox(`${ns}.never-used`)).resolves.toBeUndefined();
      });
    });

    describe('blocking reads', () => {
      it('returns [] at once with blockMs 0 when nothing is unread', async () => {
        const bus = await openBus();
        const started = Date.now();
        expect(await bus.read(`${namespace()}.a`, { blockMs: 0 })).toEqual([]);
        expect(Date.now() - started).toBeLessThan(1000);
      });

      it('wakes a blocked read promptly when a message is sent', async () => {
        const bus = await openBus();
        const ns = namespace();
        const read = track(bus.read(`${ns}.a`, { consumer: 'c1', blockMs: 20_000 }));
        await wait(60);
        expect(read.settled).toBe(false);
        const started = Date.now();
        const sent = await bus.send({ from: 'host', to: `${ns}.a`, content: 'wake up' });
        const deliveries = await read.promise;
        expect(Date.now() - started).toBeLessThan(1000);
        expect(deliveries.map((delivery) => delivery.envelope.id)).toEqual([sent.id]);
        expect(deliveries[0]!.attempt).toBe(1);
      });

      it('wakes a read blocked without blockMs', async () => {
        const bus = await openBus();
        const ns = namespace();
        const read = track(bus.read(`${ns}.a`));
        await wait(30);
        expect(read.settled).toBe(false);
        await bus.send({ from: 'host', to: `${ns}.a`, content: 'x' });
        expect(contents(await read.promise)).toEqual(['x']);
      });

      it('returns [] when blockMs passes without a message', async () => {
        const bus = await openBus();
        const started = Date.now();
        const deliveries = await bus.read(`${namespace()}.a`, { blockMs: 100 });
        const elapsed = Date.now() - started;
        expect(deliveries).toEqual([]);
        expect(elapsed).toBeGreaterThanOrEqual(80);
        expect(elapsed).toBeLessThan(5000);
      });

      it('rejects a blocked read with ABORTED when its signal fires, and loses no message', async () => {
        const bus = await openBus();
        const ns = namespace();
        const controller = new AbortController();
        const read = bus.read(`${ns}.a`, { signal: controller.signal });
        await wait(30);
        controller.abort(new Error('stopping'));
        await rejection(read, 'ABORTED');
        await bus.send({ from: 'host', to: `${ns}.a`, content: 'after abort' });
        expect(contents(await bus.read(`${ns}.a`, { blockMs: 0 }))).toEqual(['after abort']);
      });

      it('rejects at once with ABORTED for an already aborted signal and takes nothing', async () => {
        const bus = await openBus();
        const ns = namespace();
        await bus.send({ from: 'host', to: `${ns}.a`, content: 'keep me' });
        await rejection(bus.read(`${ns}.a`, { signal: AbortSignal.abort() }), 'ABORTED');
        expect(await bus.stats(`${ns}.a`)).toEqual({ unread: 1, inFlight: 0, deadLetters: 0 });
      });

      it('gives each message to exactly one of several blocked readers', async () => {
        const bus = await openBus();
        const ns = namespace();
        const reads = [0, 1, 2].map((index) => bus.read(`${ns}.a`, { consumer: `c${index}`, max: 1, blockMs: 10_000 }));
        await wait(50);
        const sent: string[] = [];
        for (const content of ['m0', 'm1', 'm2'])
          sent.push((await bus.send({ from: 'host', to: `${ns}.a`, content })).id);
        const results = await Promise.all(reads);
        for (const deliveries of results) expect(deliveries).toHaveLength(1);
        const received = results.flatMap((deliveries) => deliveries.map((delivery) => delivery.envelope.id));
        expect([...received].sort()).toEqual([...sent].sort());
        expect(await bus.stats(`${ns}.a`)).toEqual({ unread: 0, inFlight: 3, deadLetters: 0 });
      });

      it('loses and duplicates nothing when two consumers read 1,000 messages while they are sent', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.work`;
        const total = 1000;
        const received = new Map<string, number[]>([
          ['c1', []],
          ['c2', []],
        ]);
        let count = 0;
        const deadline = Date.now() + 20_000;
        const consume = async (consumer: string) => {
          while (count < total && Date.now() < deadline) {
            const deliveries = await bus.read(inbox, { consumer, max: 25, blockMs: 100 });
            for (const delivery of deliveries) received.get(consumer)!.push(Number(delivery.envelope.content));
            count += deliveries.length;
            if (deliveries.length > 0) await bus.ack(inbox, deliveryIds(deliveries));
          }
        };
        const consumers = [consume('c1'), consume('c2')];
        for (let index = 0; index < total; index++) {
          await bus.send({ from: 'producer', to: inbox, content: String(index) });
          if (index % 100 === 99) await wait(1);
        }
        await Promise.all(consumers);
        const all = [...received.get('c1')!, ...received.get('c2')!];
        expect(all).toHaveLength(total);
        expect(new Set(all).size).toBe(total);
        expect(Math.min(...all)).toBe(0);
        expect(Math.max(...all)).toBe(total - 1);
        for (const numbers of received.values()) {
          // each consumer sees its share of first deliveries in send order
          expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
        }
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      }, 30_000);
    });

    describe('leases, nack and release', () => {
      it('redelivers an unacked delivery to another consumer after the lease, as attempt 2', async () => {
        const bus = await openBus({ leaseMs: 50 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent = await bus.send({ from: 'host', to: inbox, content: 'slow' });
        const [first] = await bus.read(inbox, { consumer: 'crashed', blockMs: 0 });
        expect(first!.attempt).toBe(1);
        expect(await bus.read(inbox, { consumer: 'healthy', blockMs: 0 })).toEqual([]);
        await wait(150);
        const [second] = await bus.read(inbox, { consumer: 'healthy', blockMs: 0 });
        expect(second!.envelope.id).toBe(sent.id);
        expect(second!.attempt).toBe(2);
        await bus.ack(inbox, [second!.deliveryId]);
        await wait(150);
        expect(await bus.read(inbox, { consumer: 'healthy', blockMs: 0 })).toEqual([]);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });

      it('keeps a delivery leased while its holder extends the lease, and reports the lease time', async () => {
        const bus = await openBus({ leaseMs: 100 });
        expect(bus.leaseMs).toBe(100);
        const inbox = `${namespace()}.a`;
        await bus.send({ from: 'host', to: inbox, content: 'long turn' });
        const [held] = await bus.read(inbox, { consumer: 'worker', blockMs: 0 });
        for (let beat = 0; beat < 4; beat++) {
          await wait(50);
          expect(await bus.extendLease(inbox, [held!.deliveryId], { consumer: 'worker' })).toBe(1);
        }
        expect(await bus.read(inbox, { consumer: 'other', blockMs: 0 })).toEqual([]);
        // Another consumer cannot extend what it does not hold; unknown ids count nothing.
        expect(await bus.extendLease(inbox, [held!.deliveryId, 'unknown'], { consumer: 'other' })).toBe(0);
        await wait(200);
        const [taken] = await bus.read(inbox, { consumer: 'other', blockMs: 0 });
        expect(taken?.attempt).toBe(2);
        expect(await bus.extendLease(inbox, [held!.deliveryId], { consumer: 'worker' })).toBe(0);
        await bus.ack(inbox, [taken!.deliveryId]);
      });

      it('hands an expired delivery to a reader that is already blocked', async () => {
        const bus = await openBus({ leaseMs: 100 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent = await bus.send({ from: 'host', to: inbox, content: 'x' });
        await bus.read(inbox, { consumer: 'crashed', blockMs: 0 });
        const started = Date.now();
        const deliveries = await bus.read(inbox, { consumer: 'healthy', blockMs: 5000 });
        const elapsed = Date.now() - started;
        expect(deliveries.map((delivery) => [delivery.envelope.id, delivery.attempt])).toEqual([[sent.id, 2]]);
        expect(elapsed).toBeGreaterThanOrEqual(50);
        expect(elapsed).toBeLessThan(3000);
      });

      it('redelivers a nacked delivery at once, ahead of unread messages, with the error', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.a`;
        await bus.send({ from: 'host', to: inbox, content: 'first' });
        await bus.send({ from: 'host', to: inbox, content: 'second' });
        const [delivery] = await bus.read(inbox, { consumer: 'c1', max: 1, blockMs: 0 });
        expect(delivery!.envelope.content).toBe('first');
        await bus.nack(inbox, delivery!.deliveryId, { error: new Error('tool exploded') });
        const [again] = await bus.read(inbox, { consumer: 'c2', max: 1, blockMs: 0 });
        expect(again!.envelope.id).toBe(delivery!.envelope.id);
        expect(again!.attempt).toBe(2);
        expect(again!.lastError).toMatchObject({ name: 'Error', message: 'tool exploded' });
        const [next] = await bus.read(inbox, { consumer: 'c2', max: 1, blockMs: 0 });
        expect(next!.envelope.content).toBe('second');
        expect(next!.attempt).toBe(1);
        await expect(bus.nack(inbox, 'no-such-delivery')).resolves.toBeUndefined();
      });

      it('wakes a blocked reader when a delivery is nacked', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.a`;
        await bus.send({ from: 'host', to: inbox, content: 'retry me' });
        const [delivery] = await bus.read(inbox, { consumer: 'c1', blockMs: 0 });
        const blocked = bus.read(inbox, { consumer: 'c2', blockMs: 5000 });
        await wait(30);
        await bus.nack(inbox, delivery!.deliveryId, { error: new Error('once more') });
        const [again] = await blocked;
        expect(again).toMatchObject({ attempt: 2, lastError: { message: 'once more' } });
        expect(again!.envelope.content).toBe('retry me');
      });

      it('makes every delivery of a released consumer available again', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.a`;
        for (const content of ['1', '2', '3', '4']) await bus.send({ from: 'host', to: inbox, content });
        const held = await bus.read(inbox, { consumer: 'dead', max: 3, blockMs: 0 });
        const [other] = await bus.read(inbox, { consumer: 'alive', max: 1, blockMs: 0 });
        expect(contents(held)).toEqual(['1', '2', '3']);
        expect(await bus.releaseConsumer(inbox, 'dead')).toBe(3);
        expect(await bus.releaseConsumer(inbox, 'dead')).toBe(0);
        expect(await bus.releaseConsumer(inbox, 'nobody')).toBe(0);
        expect(await bus.stats(inbox)).toEqual({ unread: 3, inFlight: 1, deadLetters: 0 });
        const again = await bus.read(inbox, { consumer: 'alive', max: 10, blockMs: 0 });
        expect(contents(again)).toEqual(['1', '2', '3']);
        expect(again.map((delivery) => delivery.attempt)).toEqual([2, 2, 2]);
        await bus.ack(inbox, [...deliveryIds(again), other!.deliveryId]);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });
    });

    describe('dead letters', () => {
      it('moves a message to dead letter after maxDeliveries with its last error, and redrives it', async () => {
        const bus = await openBus({ maxDeliveries: 2 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent = await bus.send({ from: 'host', to: inbox, content: 'poison' });
        const [first] = await bus.read(inbox, { blockMs: 0 });
        await bus.nack(inbox, first!.deliveryId, { error: new Error('first failure') });
        const [second] = await bus.read(inbox, { blockMs: 0 });
        expect(second).toMatchObject({ attempt: 2, lastError: { message: 'first failure' } });
        await bus.nack(inbox, second!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'second failure') });
        expect(await bus.read(inbox, { blockMs: 0 })).toEqual([]);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 1 });

        const letters = await bus.deadLetters(inbox);
        expect(letters).toHaveLength(1);
        expect(letters[0]).toMatchObject({
          inbox,
          attempts: 2,
          error: { message: 'second failure', code: 'TOOL_FAILED' },
        });
        expect(letters[0]!.envelope.id).toBe(sent.id);
        expect(letters[0]!.envelope.content).toBe('poison');
        expect(letters[0]!.deadAt).toEqual(expect.any(Number));

        expect(await bus.redrive(inbox)).toBe(1);
        expect(await bus.deadLetters(inbox)).toEqual([]);
        const [redriven] = await bus.read(inbox, { blockMs: 0 });
        expect(redriven!.envelope.id).toBe(sent.id);
        expect(redriven!.attempt).toBe(1);
        await bus.ack(inbox, [redriven!.deliveryId]);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });

      it('dead-letters a message whose leases keep expiring', async () => {
        const bus = await openBus({ leaseMs: 50, maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent = await bus.send({ from: 'host', to: inbox, content: 'crashes its consumer' });
        expect(await bus.read(inbox, { consumer: 'c1', blockMs: 0 })).toHaveLength(1);
        await wait(150);
        expect(await bus.read(inbox, { consumer: 'c2', blockMs: 0 })).toEqual([]);
        const letters = await bus.deadLetters(inbox);
        expect(letters.map((letter) => [letter.envelope.id, letter.attempts])).toEqual([[sent.id, 1]]);
      });

      it('honours limit in deadLetters and redrive', async () => {
        const bus = await openBus({ maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        for (const content of ['1', '2', '3']) await bus.send({ from: 'host', to: inbox, content });
        for (const delivery of await bus.read(inbox, { blockMs: 0 })) {
          await bus.nack(inbox, delivery.deliveryId, { error: new Error(`failed ${delivery.envelope.content}`) });
        }
        await bus.read(inbox, { blockMs: 0 });
        expect((await bus.deadLetters(inbox)).map((letter) => letter.envelope.content)).toEqual(['1', '2', '3']);
        expect((await bus.deadLetters(inbox, { limit: 2 })).map((letter) => letter.envelope.content)).toEqual([
          '1',
          '2',
        ]);
        expect(await bus.redrive(inbox, { limit: 1 })).toBe(1);
        expect(await bus.stats(inbox)).toEqual({ unread: 1, inFlight: 0, deadLetters: 2 });
        expect(contents(await bus.read(inbox, { blockMs: 0 }))).toEqual(['1']);
      });

      it('redrives and discards dead letters by message id; an id with no dead letter counts 0', async () => {
        const bus = await openBus({ maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent: MessageEnvelope[] = [];
        for (const content of ['1', '2', '3', '4']) sent.push(await bus.send({ from: 'host', to: inbox, content }));
        for (const delivery of await bus.read(inbox, { blockMs: 0 })) {
          await bus.nack(inbox, delivery.deliveryId, { error: new Error('poison') });
        }
        await bus.read(inbox, { blockMs: 0 });
        const [one, two, three, four] = sent.map((envelope) => envelope.id) as [string, string, string, string];
        const dead = async () => (await bus.deadLetters(inbox)).map((letter) => letter.envelope.content);
        expect(await dead()).toEqual(['1', '2', '3', '4']);

        expect(await bus.redrive(inbox, { ids: [three, three, 'no-such-message'] })).toBe(1);
        expect(await dead()).toEqual(['1', '2', '4']);
        const [redriven] = await bus.read(inbox, { blockMs: 0 });
        expect(redriven).toMatchObject({ attempt: 1, envelope: { id: three, content: '3' } });
        await bus.ack(inbox, [redriven!.deliveryId]);

        expect(await bus.redrive(inbox, { ids: [four, two], limit: 1 })).toBe(1);
        expect(await dead()).toEqual(['1', '4']);
        expect(await bus.discardDeadLetters(inbox, [four, three, 'no-such-message'])).toBe(1);
        expect(await dead()).toEqual(['1']);
        expect(await bus.discardDeadLetters(inbox, [four])).toBe(0);
        expect(await bus.redrive(inbox, { ids: [four] })).toBe(0);
        expect(await bus.redrive(inbox, { ids: [] })).toBe(0);
        expect(await bus.discardDeadLetters(inbox, [])).toBe(0);
        expect(await bus.discardDeadLetters(`${ns}.never-used`, [one])).toBe(0);
        expect(await bus.redrive(`${ns}.never-used`, { ids: [one] })).toBe(0);
        expect(await bus.stats(inbox)).toEqual({ unread: 1, inFlight: 0, deadLetters: 1 });
        expect(contents(await bus.read(inbox, { blockMs: 0 }))).toEqual(['2']);

        for (const bad of [
          () => bus.discardDeadLetters(inbox, ['']),
          () => bus.redrive(inbox, { ids: [7 as never] }),
        ]) {
          await expect(bad()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        }
        expect(await dead()).toEqual(['1']);
      });

      it('still de-duplicates a message after its dead letter is discarded', async () => {
        const bus = await openBus({ maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const original = await bus.send({ id: 'update-7', from: 'channel', to: inbox, content: 'poison' });
        const [delivery] = await bus.read(inbox, { blockMs: 0 });
        await bus.nack(inbox, delivery!.deliveryId);
        await bus.read(inbox, { blockMs: 0 });
        expect(await bus.discardDeadLetters(inbox, ['update-7'])).toBe(1);
        expect(await bus.send({ id: 'update-7', from: 'channel', to: inbox, content: 'again' })).toEqual(original);
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });

      it('wakes a blocked reader when a dead letter is redriven by id', async () => {
        const bus = await openBus({ maxDeliveries: 1 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const sent = await bus.send({ from: 'host', to: inbox, content: 'again' });
        const [delivery] = await bus.read(inbox, { blockMs: 0 });
        await bus.nack(inbox, delivery!.deliveryId);
        expect(await bus.read(inbox, { blockMs: 0 })).toEqual([]);
        const blocked = bus.read(inbox, { blockMs: 5_000 });
        await wait(20);
        expect(await bus.redrive(inbox, { ids: [sent.id] })).toBe(1);
        expect(contents(await blocked)).toEqual(['again']);
      });
    });

    describe('de-duplication', () => {
      it('does not enqueue a message again for an explicit id it has seen', async () => {
        const bus = await openBus();
        const ns = namespace();
        const inbox = `${ns}.a`;
        const original = await bus.send({ id: 'update-1', from: 'channel:telegram', to: inbox, content: 'first' });
        expect(original.id).toBe('update-1');
        const duplicate = await bus.send({ id: 'update-1', from: 'channel:telegram', to: inbox, content: 'again' });
        expect(duplicate).toEqual(original);
        const deliveries = await bus.read(inbox, { blockMs: 0 });
        expect(contents(deliveries)).toEqual(['first']);
        await bus.ack(inbox, deliveryIds(deliveries));
        await bus.send({ id: 'update-1', from: 'channel:telegram', to: inbox, content: 'after ack' });
        expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      });

      it('does not enqueue a message again for an externalId it has seen in that inbox', async () => {
        const bus = await openBus();
        const ns = namespace();
        const original = await bus.send({ from: 'channel', to: `${ns}.a`, content: 'one', externalId: 'ext-9' });
        const duplicate = await bus.send({ from: 'channel', to: `${ns}.a`, content: 'two', externalId: 'ext-9' });
        expect(duplicate.id).toBe(original.id);
        expect(duplicate.content).toBe('one');
        await bus.send({ from: 'channel', to: `${ns}.b`, content: 'elsewhere', externalId: 'ext-9' });
        await bus.send({ from: 'channel', to: `${ns}.a`, content: 'three', externalId: 'ext-10' });
        expect(contents(await bus.read(`${ns}.a`, { blockMs: 0 }))).toEqual(['one', 'three']);
        expect(contents(await bus.read(`${ns}.b`, { blockMs: 0 }))).toEqual(['elsewhere']);
      });

      it('assigns distinct ids to messages sent without one', async () => {
        const bus = await openBus();
        const ns = namespace();
        const first = await bus.send({ from: 'host', to: `${ns}.a`, content: 'same' });
        const second = await bus.send({ from: 'host', to: `${ns}.a`, content: 'same' });
        expect(first.id).not.toBe(second.id);
        expect(await bus.read(`${ns}.a`, { blockMs: 0 })).toHaveLength(2);
      });
    });

    describe('groups', () => {
      it('creates, joins, leaves, lists and deletes groups', async () => {
        const bus = await openBus();
        const ns = namespace();
        const group = `${ns}.team`;
        await bus.createGroup(group);
        await bus.createGroup(group); // idempotent
        expect(await bus.members(group)).toEqual([]);
        await bus.join(group, `${ns}.carol`);
        await bus.join(group, `${ns}.alice`);
        await bus.join(group, `${ns}.bob`);
        await bus.join(group, `${ns}.alice`); // no-op
        expect(await bus.members(group)).toEqual([`${ns}.alice`, `${ns}.bob`, `${ns}.carol`]);
        await bus.leave(group, `${ns}.bob`);
        await bus.leave(group, `${ns}.not-a-member`);
        expect(await bus.members(group)).toEqual([`${ns}.alice`, `${ns}.carol`]);
        await bus.createGroup(`${ns}.other`);
        expect((await bus.groups()).filter((name) => name.startsWith(ns))).toEqual([`${ns}.other`, group]);
        await bus.deleteGroup(group);
        expect((await bus.groups()).filter((name) => name.startsWith(ns))).toEqual([`${ns}.other`]);
        await rejection(bus.members(group), 'GROUP_NOT_FOUND');
      });

      it('rejects operations on a missing group with GROUP_NOT_FOUND', async () => {
        const bus = await openBus();
        const group = `${namespace()}.missing`;
        await rejection(bus.deleteGroup(group), 'GROUP_NOT_FOUND');
        await rejection(bus.join(group, 'alice'), 'GROUP_NOT_FOUND');
        await rejection(bus.leave(group, 'alice'), 'GROUP_NOT_FOUND');
        await rejection(bus.members(group), 'GROUP_NOT_FOUND');
        const error = await rejection(bus.broadcast({ group, from: 'host', content: 'hi' }), 'GROUP_NOT_FOUND');
        expect(error.message).toContain(group);
      });

      it('broadcasts one copy to every member, each with its own id', async () => {
        const bus = await openBus();
        const ns = namespace();
        const group = `${ns}.team`;
        const members = [`${ns}.a`, `${ns}.b`, `${ns}.c`];
        await bus.createGroup(group);
        for (const member of members) await bus.join(group, member);
        const envelopes = await bus.broadcast({ group, from: `${ns}.boss`, content: 'stand-up', type: 'notice' });
        expect(envelopes).toHaveLength(3);
        expect(new Set(envelopes.map((envelope) => envelope.id)).size).toBe(3);
        expect(envelopes.map((envelope) => envelope.to).sort()).toEqual(members);
        for (const member of members) {
          const deliveries = await bus.read(member, { blockMs: 0 });
          expect(deliveries).toHaveLength(1);
          expect(deliveries[0]!.envelope).toMatchObject({
            to: member,
            group,
            from: `${ns}.boss`,
            content: 'stand-up',
            type: 'notice',
          });
          expect(envelopes.map((envelope) => envelope.id)).toContain(deliveries[0]!.envelope.id);
        }
        expect(await bus.read(`${ns}.boss`, { blockMs: 0 })).toEqual([]);
        await bus.createGroup(`${ns}.empty`);
        expect(await bus.broadcast({ group: `${ns}.empty`, from: 'host', content: 'anyone?' })).toEqual([]);
      });

      it('wakes blocked members on broadcast', async () => {
        const bus = await openBus();
        const ns = namespace();
        const group = `${ns}.team`;
        await bus.createGroup(group);
        await bus.join(group, `${ns}.a`);
        await bus.join(group, `${ns}.b`);
        const reads = [bus.read(`${ns}.a`, { blockMs: 5000 }), bus.read(`${ns}.b`, { blockMs: 5000 })];
        await wait(30);
        await bus.broadcast({ group, from: 'host', content: 'all hands' });
        for (const deliveries of await Promise.all(reads)) expect(contents(deliveries)).toEqual(['all hands']);
      });
    });

    describe('invalid input', () => {
      it('rejects an invalid message with INVALID_MESSAGE naming the fields', async () => {
        const bus = await openBus();
        const error = await rejection(bus.send({ from: 'has space', content: 42 } as never), 'INVALID_MESSAGE');
        expect(error.message).toMatch(/from/);
        expect(error.message).toMatch(/to/);
        expect(error.message).toMatch(/content/);
        await rejection(bus.send(undefined as never), 'INVALID_MESSAGE');
        await rejection(bus.broadcast({ from: 'host', content: 'x' } as never), 'INVALID_MESSAGE');
      });

      it('rejects a message over maxMessageBytes with MESSAGE_TOO_LARGE and keeps nothing of it', async () => {
        const bus = await openBus({ maxMessageBytes: 1024 });
        const ns = namespace();
        const inbox = `${ns}.a`;
        const error = await rejection(
          bus.send({ from: 'host', to: inbox, content: 'x'.repeat(2000) }),
          'MESSAGE_TOO_LARGE',
        );
        expect(error.message).toContain('1024');
        expect(error.message).toContain('2000');
        // data counts too
        await rejection(
          bus.send({ from: 'host', to: inbox, content: 'x'.repeat(600), data: { blob: 'y'.repeat(600) } }),
          'MESSAGE_TOO_LARGE',
        );
        // bytes, not characters: 600 two-byte characters are 1200 bytes
        await rejection(bus.send({ from: 'host', to: inbox, content: 'é'.repeat(600) }), 'MESSAGE_TOO_LARGE');
        await bus.send({ from: 'host', to: inbox, content: 'x'.repeat(900) });
        expect(await bus.stats(inbox)).toEqual({ unread: 1, inFlight: 0, deadLetters: 0 });
      });

      it('rejects invalid inbox, group and member names', async () => {
        const bus = await openBus();
        const ns = namespace();
        await rejection(bus.read('has space', { blockMs: 0 }), 'INVALID_ARGUMENT');
        await rejection(bus.read('', { blockMs: 0 }), 'INVALID_ARGUMENT');
        await rejection(bus.stats('a/b'), 'INVALID_ARGUMENT');
        await rejection(bus.createGroup('bad group'), 'INVALID_ARGUMENT');
        await bus.createGroup(`${ns}.team`);
        await rejection(bus.join(`${ns}.team`, 'bad member'), 'INVALID_ARGUMENT');
        await rejection(bus.send({ from: 'host', to: 'x'.repeat(129), content: 'x' }), 'INVALID_MESSAGE');
      });

      it('rejects invalid read options with INVALID_ARGUMENT', async () => {
        const bus = await openBus();
        const inbox = `${namespace()}.a`;
        await rejection(bus.read(inbox, { max: 0, blockMs: 0 }), 'INVALID_ARGUMENT');
        await rejection(bus.read(inbox, { max: 1.5, blockMs: 0 }), 'INVALID_ARGUMENT');
        await rejection(bus.read(inbox, { blockMs: -1 }), 'INVALID_ARGUMENT');
      });
    });

    describe('close', () => {
      it('resolves blocked reads with [], is idempotent, and then rejects send and read with CLOSED', async () => {
        const bus = await openBus();
        const ns = namespace();
        const forever = bus.read(`${ns}.a`);
        const bounded = bus.read(`${ns}.b`, { blockMs: 60_000 });
        await wait(30);
        const started = Date.now();
        await bus.close();
        expect(await forever).toEqual([]);
        expect(await bounded).toEqual([]);
        expect(Date.now() - started).toBeLessThan(1000);
        await expect(bus.close()).resolves.toBeUndefined();
        await rejection(bus.send({ from: 'host', to: `${ns}.a`, content: 'late' }), 'CLOSED');
        await rejection(bus.read(`${ns}.a`, { blockMs: 0 }), 'CLOSED');
      });

      it('closes through Symbol.asyncDispose', async () => {
        const bus = await openBus();
        const ns = namespace();
        const blocked = bus.read(`${ns}.a`);
        await bus[Symbol.asyncDispose]();
        expect(await blocked).toEqual([]);
        await rejection(bus.send({ from: 'host', to: `${ns}.a`, content: 'late' }), 'CLOSED');
      });
    });
  });
}
