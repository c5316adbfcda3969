import { describe, expect, it } from 'vitest';
import { contents, deliveryIds, namespace, type OpenBus, wait } from './support.js';

/** Leases, nack and releaseConsumer: redelivery with attempt counts and last errors. */
export function leasesContract(openBus: OpenBus): void {
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
      // Beats a quarter of the lease apart: a loaded machine may stall one by most of a lease.
      const bus = await openBus({ leaseMs: 400 });
      expect(bus.leaseMs).toBe(400);
      const inbox = `${namespace()}.a`;
      await bus.send({ from: 'host', to: inbox, content: 'long turn' });
      const [held] = await bus.read(inbox, { consumer: 'worker', blockMs: 0 });
      for (let beat = 0; beat < 4; beat++) {
        await wait(100);
        expect(await bus.extendLease(inbox, [held!.deliveryId], { consumer: 'worker' })).toBe(1);
      }
      expect(await bus.read(inbox, { consumer: 'other', blockMs: 0 })).toEqual([]);
      // Another consumer cannot extend what it does not hold; unknown ids count nothing.
      expect(await bus.extendLease(inbox, [held!.deliveryId, 'unknown'], { consumer: 'other' })).toBe(0);
      await wait(600);
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
}
