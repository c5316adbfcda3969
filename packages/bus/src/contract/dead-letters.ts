import { AgentrixError, type MessageEnvelope } from '@agentrix/core';
import { describe, expect, it } from 'vitest';
import { contents, namespace, type OpenBus, wait } from './support.js';

/** Dead letters: after `maxDeliveries`, listed, redriven and discarded. */
export function deadLettersContract(openBus: OpenBus): void {
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
      expect((await bus.deadLetters(inbox, { limit: 2 })).map((letter) => letter.envelope.content)).toEqual(['1', '2']);
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

      for (const bad of [() => bus.discardDeadLetters(inbox, ['']), () => bus.redrive(inbox, { ids: [7 as never] })]) {
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
}
