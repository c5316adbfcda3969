import { InMemoryBus } from '@agentrix/bus';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from './lease-keeper.js';

/** A bus with 30 ms leases (the keeper sweeps every 10 ms) on a fake clock, and `count` messages in inbox `a`. */
async function setUp(count: number) {
  const clock = new FakeClock();
  const bus = new InMemoryBus({ leaseMs: 30, clock });
  for (let index = 0; index < count; index++) await bus.send({ from: 'host', to: 'a', content: `m${index}` });
  const errors: unknown[] = [];
  const keeper = new LeaseKeeper(bus, clock, 'c1', (error) => errors.push(error));
  const take = async () => (await bus.read('a', { consumer: 'c1', max: 1, blockMs: 0 }))[0]!;
  const othersTake = () => bus.read('a', { consumer: 'other', blockMs: 0 });
  return { clock, bus, keeper, errors, take, othersTake };
}

describe('LeaseKeeper', () => {
  it('keeps a delivery read after its last clock reading without reading the clock, and past its lease', async () => {
    const { clock, bus, keeper, errors, take, othersTake } = await setUp(2);
    keeper.keep('a', (await take()).deliveryId); // arms the sweep: the keeper's clock reading
    await clock.advance(9);
    const second = await take(); // leased at 9, after that reading
    const reads = vi.spyOn(clock, 'now');
    keeper.keep('a', second.deliveryId);
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    // Four leases long: neither message goes to another consumer while kept.
    for (let elapsed = 0; elapsed < 120; elapsed += 5) {
      await clock.advance(5);
      expect(await othersTake()).toEqual([]);
    }
    keeper.close();
    await clock.advance(31);
    expect((await othersTake()).map((delivery) => delivery.attempt)).toEqual([2, 2]);
    expect(errors).toEqual([]);
    await bus.close();
  });

  it('extends a held delivery at once: its lease may be almost over', async () => {
    const { clock, bus, keeper, take, othersTake } = await setUp(1);
    const delivery = await take(); // leased until 30
    await clock.advance(25);
    keeper.keep('a', delivery.deliveryId, true);
    await clock.advance(6); // before the first sweep, after the lease it was read with
    expect(await othersTake()).toEqual([]);
    keeper.close();
    await bus.close();
  });
});
