import { InMemoryBus } from '@agentrix/bus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LifecycleBus } from './lifecycle-bus.js';

describe('LifecycleBus', () => {
  const buses: InMemoryBus[] = [];
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
  });
  function innerBus(): InMemoryBus {
    const bus = new InMemoryBus();
    buses.push(bus);
    return bus;
  }

  it('releases what every consumer of an inbox holds, one consumer or several', async () => {
    const inner = innerBus();
    const bus = new LifecycleBus(inner, { reclaim: false });
    for (const content of ['a', 'b', 'c']) await inner.send({ from: 'host', to: 'box', content });
    await inner.send({ from: 'host', to: 'solo', content: 'd' });
    // Two consumers on one inbox (the second one turns the inbox's single name into a set), one on another.
    expect(await bus.read('box', { consumer: 'one', blockMs: 0, max: 1 })).toHaveLength(1);
    expect(await bus.read('box', { consumer: 'two', blockMs: 0, max: 2 })).toHaveLength(2);
    expect(await bus.read('solo', { consumer: 'one', blockMs: 0, max: 1 })).toHaveLength(1);
    expect((await inner.stats('box')).inFlight).toBe(3);

    expect(await bus.releaseHeld()).toBe(4);
    expect((await inner.stats('box')).inFlight).toBe(0);
    expect((await inner.stats('solo')).inFlight).toBe(0);
    const again = await inner.read('box', { consumer: 'later', blockMs: 0, max: 10 });
    expect(again.map((delivery) => delivery.envelope.content).sort()).toEqual(['a', 'b', 'c']);
  });

  it("hands back the inner bus's own read when nothing is reclaimed (no promise of its own per first read)", async () => {
    const inner = innerBus();
    const bus = new LifecycleBus(inner, { reclaim: false });
    const read = vi.spyOn(inner, 'read');
    const controller = new AbortController();
    const reading = bus.read('idle', { consumer: 'agent', signal: controller.signal });
    expect(reading).toBe(read.mock.results[0]!.value);
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it("with reclaim, a consumer's first read takes back what the same name held before, once", async () => {
    const inner = innerBus();
    await inner.send({ from: 'host', to: 'box', content: 'held before a restart' });
    expect(await inner.read('box', { consumer: 'stable', blockMs: 0 })).toHaveLength(1);

    const bus = new LifecycleBus(inner, { reclaim: true });
    const release = vi.spyOn(inner, 'releaseConsumer');
    const first = await bus.read('box', { consumer: 'stable', blockMs: 0 });
    expect(first.map((delivery) => [delivery.envelope.content, delivery.attempt])).toEqual([
      ['held before a restart', 2],
    ]);
    await bus.read('box', { consumer: 'stable', blockMs: 0 });
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('reads all the same when the release before a first read throws at once', async () => {
    const inner = innerBus();
    await inner.send({ from: 'host', to: 'box', content: 'x' });
    vi.spyOn(inner, 'releaseConsumer').mockImplementation(() => {
      throw new Error('release failed synchronously');
    });
    const bus = new LifecycleBus(inner, { reclaim: true });
    const reading = bus.read('box', { consumer: 'stable', blockMs: 0 });
    expect(reading).toBeInstanceOf(Promise);
    expect((await reading).map((delivery) => delivery.envelope.content)).toEqual(['x']);
  });
});
