import { describe, expect, it } from 'vitest';
import { namespace, type OpenBus, rejection, wait } from './support.js';

/** `close()`: blocked reads resolve, later calls reject with CLOSED. */
export function closeContract(openBus: OpenBus): void {
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
      await rejection(Promise.resolve(bus.ackNow(`${ns}.a`, ['1'])), 'CLOSED');
      await rejection(Promise.resolve(bus.sendNow({ from: 'host', to: `${ns}.a`, content: 'late' })), 'CLOSED');
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
}
