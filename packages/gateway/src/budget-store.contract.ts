import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BudgetStore } from './budget-store.js';

/** The BudgetStore contract, run against every backend. `make` gets a fresh key prefix per test. */
export function budgetStoreContract(name: string, make: (prefix: string) => Promise<BudgetStore> | BudgetStore): void {
  describe(`BudgetStore contract: ${name}`, () => {
    const fresh = async () => {
      const prefix = `test-${randomUUID()}:`;
      return { store: await make(prefix), key: (k: string) => `${prefix}${k}` };
    };

    it('reserves within the cap and refuses beyond it, all or nothing', async () => {
      const { store, key } = await fresh();
      const a = key('a');
      const b = key('b');
      expect(
        await store.reserve([
          { key: a, limit: 100, amount: 60 },
          { key: b, limit: 1_000, amount: 60 },
        ]),
      ).toEqual({
        ok: true,
        counters: [
          { key: a, spent: 0, reserved: 60 },
          { key: b, spent: 0, reserved: 60 },
        ],
      });
      const refused = await store.reserve([
        { key: b, limit: 1_000, amount: 50 },
        { key: a, limit: 100, amount: 50 },
      ]);
      expect(refused).toEqual({ ok: false, key: a, counter: { key: a, spent: 0, reserved: 60 } });
      // Nothing was added to b by the refused reservation.
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 0, reserved: 60 },
        { key: b, spent: 0, reserved: 60 },
      ]);
      await store.close();
    });

    it('settles to the actual amount and releases with 0', async () => {
      const { store, key } = await fresh();
      const a = key('a');
      await store.reserve([{ key: a, limit: 100, amount: 60 }]);
      await store.settle([{ key: a, reserved: 60, actual: 25 }]);
      expect(await store.read([a])).toEqual([{ key: a, spent: 25, reserved: 0 }]);
      await store.reserve([{ key: a, limit: 100, amount: 75 }]);
      await store.settle([{ key: a, reserved: 75, actual: 0 }]);
      expect(await store.read([a])).toEqual([{ key: a, spent: 25, reserved: 0 }]);
      expect((await store.reserve([{ key: a, limit: 100, amount: 76 }])).ok).toBe(false);
      expect((await store.reserve([{ key: a, limit: 100, amount: 75 }])).ok).toBe(true);
      await store.close();
    });

    it('never lets concurrent reservations overshoot', async () => {
      const { store, key } = await fresh();
      const a = key('a');
      const results = await Promise.all(
        Array.from({ length: 200 }, () => store.reserve([{ key: a, limit: 1_000, amount: 7 }])),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(142);
      const [counter] = await store.read([a]);
      expect(counter!.reserved).toBe(994);
      await store.close();
    });

    it('reads missing keys as zero and handles nano-dollar sized integers', async () => {
      const { store, key } = await fresh();
      expect(await store.read([key('none')])).toEqual([{ key: key('none'), spent: 0, reserved: 0 }]);
      const big = key('big');
      const limit = 20_000_000_000; // $20 in nano-dollars
      expect((await store.reserve([{ key: big, limit, amount: 19_999_999_999 }])).ok).toBe(true);
      expect((await store.reserve([{ key: big, limit, amount: 2 }])).ok).toBe(false);
      await store.close();
    });
  });
}
