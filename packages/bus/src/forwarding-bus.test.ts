import type { MessageEnvelope, SendInput } from '@agentrix/core';
import { ForwardingBus } from '@agentrix/core/implement';
import { describe, expect, it } from 'vitest';
import { InMemoryBus } from './in-memory-bus.js';

describe('ForwardingBus', () => {
  it('forwards sendNow and ackNow to the inner bus: the in-memory bus sends and acks at once', async () => {
    await using bus = new ForwardingBus(new InMemoryBus());
    const sent = bus.sendNow({ from: 'host', to: 'a', content: 'one' });
    expect(sent).not.toBeInstanceOf(Promise);
    const [delivery] = await bus.read('a', { blockMs: 0 });
    expect(delivery?.envelope).toEqual(sent);
    expect(bus.ackNow('a', [delivery!.deliveryId])).toBeUndefined();
    expect(await bus.stats('a')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
  });

  it('a subclass that changes send or ack gets them through sendNow and ackNow too', async () => {
    const seen: string[] = [];
    class Recording extends ForwardingBus {
      override send(input: SendInput): Promise<MessageEnvelope> {
        seen.push(`send ${input.content}`);
        return super.send({ ...input, content: input.content.toUpperCase() });
      }
      override ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
        seen.push(`ack ${deliveryIds.length}`);
        return super.ack(inbox, deliveryIds);
      }
    }
    await using bus = new Recording(new InMemoryBus());
    const sent = bus.sendNow({ from: 'host', to: 'a', content: 'one' });
    expect(sent).toBeInstanceOf(Promise);
    expect((await sent).content).toBe('ONE');
    const [delivery] = await bus.read('a', { blockMs: 0 });
    await bus.ackNow('a', [delivery!.deliveryId]);
    expect(seen).toEqual(['send one', 'ack 1']);
    expect(await bus.stats('a')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
  });
});
