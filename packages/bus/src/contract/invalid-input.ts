import { describe, expect, it } from 'vitest';
import { namespace, type OpenBus, rejection } from './support.js';

/** Invalid input: typed errors, nothing stored. */
export function invalidInputContract(openBus: OpenBus): void {
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
      // ackNow's errors come as its promise, never as `undefined` (acked) nor thrown.
      await rejection(Promise.resolve(bus.ackNow('a/b', ['1'])), 'INVALID_ARGUMENT');
      // So do sendNow's: a rejected promise, never an envelope nor a throw.
      await rejection(
        Promise.resolve(bus.sendNow({ from: 'host', to: 'x'.repeat(129), content: 'x' })),
        'INVALID_MESSAGE',
      );
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
}
