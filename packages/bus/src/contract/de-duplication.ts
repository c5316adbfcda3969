import { describe, expect, it } from 'vitest';
import { contents, deliveryIds, namespace, type OpenBus } from './support.js';

/** De-duplication by explicit id and by `externalId`. */
export function deDuplicationContract(openBus: OpenBus): void {
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
}
