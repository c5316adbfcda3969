import { describe, expect, it } from 'vitest';
import { contents, deliveryIds, namespace, type OpenBus, rejection, track, wait } from './support.js';

/** Blocking reads: `blockMs`, wake-ups, abort signals. */
export function blockingReadsContract(openBus: OpenBus): void {
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
}
