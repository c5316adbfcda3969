import { describe, expect, it } from 'vitest';
import { contents, deliveryIds, namespace, type OpenBus } from './support.js';

/** Send, read and ack: envelopes, order, `max`, delivery ids. */
export function sendReadAckContract(openBus: OpenBus): void {
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

    it('acks with ackNow as with ack, at once (undefined) or through the promise it returns', async () => {
      const bus = await openBus();
      const ns = namespace();
      const inbox = `${ns}.alice`;
      for (const content of ['one', 'two']) await bus.send({ from: 'host', to: inbox, content });
      const deliveries = await bus.read(inbox, { consumer: 'c1', max: 2, blockMs: 0 });
      expect(contents(deliveries)).toEqual(['one', 'two']);
      // An unknown id is ignored, as by ack.
      await bus.ackNow(inbox, [deliveries[0]!.deliveryId, 'no-such-delivery']);
      expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 1, deadLetters: 0 });
      await bus.ackNow(inbox, [deliveries[1]!.deliveryId]);
      expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
      expect(await bus.read(inbox, { consumer: 'c2', blockMs: 0 })).toEqual([]);
    });

    it('sends with sendNow as with send: the envelope at once or through the promise it returns', async () => {
      const bus = await openBus();
      const ns = namespace();
      const inbox = `${ns}.alice`;
      const sent = await bus.sendNow({ from: 'host', to: inbox, content: 'one', id: `${ns}-1` });
      expect(sent).toMatchObject({ id: `${ns}-1`, from: 'host', to: inbox, content: 'one', type: 'message' });
      // The same id again is the same message, as with send.
      expect((await bus.sendNow({ from: 'host', to: inbox, content: 'again', id: `${ns}-1` })).content).toBe('one');
      const [delivery] = await bus.read(inbox, { consumer: 'c1', blockMs: 0 });
      expect(delivery?.envelope).toEqual(sent);
      expect(await bus.stats(inbox)).toEqual({ unread: 0, inFlight: 1, deadLetters: 0 });
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
}
