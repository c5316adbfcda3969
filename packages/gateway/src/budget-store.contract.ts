import { randomUUID } from 'node:crypto';
import type { BudgetReserveLine, BudgetStore } from '@agentrix/core';
import { describe, expect, it } from 'vitest';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12);

/** The BudgetStore contract, run against every backend. `make` gets a fresh key prefix per test. */
export function budgetStoreContract(name: string, make: (prefix: string) => Promise<BudgetStore> | BudgetStore): void {
  describe(`BudgetStore contract: ${name}`, () => {
    const fresh = async () => {
      const prefix = `test-${randomUUID()}:`;
      const store = await make(prefix);
      let next = 0;
      /** Reserves under a fresh id (returned as `id`). */
      const reserve = async (
        lines: BudgetReserveLine[],
        options: { holder?: string; expiresAt?: number; id?: string } = {},
      ) => {
        const id = options.id ?? `${prefix}r${++next}`;
        const result = await store.reserve({
          id,
          holder: options.holder ?? `${prefix}holder`,
          expiresAt: options.expiresAt ?? NOW + HOUR,
          lines,
        });
        return { ...result, id };
      };
      return { store, reserve, prefix, key: (k: string) => `${prefix}${k}` };
    };

    it('reserves within the cap and refuses beyond it, all or nothing', async () => {
      const { store, reserve, key } = await fresh();
      const a = key('a');
      const b = key('b');
      const first = await reserve([
        { key: a, limit: 100, amount: 60 },
        { key: b, limit: 1_000, amount: 60 },
      ]);
      expect(first).toMatchObject({
        ok: true,
        counters: [
          { key: a, spent: 0, reserved: 60 },
          { key: b, spent: 0, reserved: 60 },
        ],
      });
      const refused = await reserve([
        { key: b, limit: 1_000, amount: 50 },
        { key: a, limit: 100, amount: 50 },
      ]);
      expect(refused).toMatchObject({ ok: false, key: a, counter: { key: a, spent: 0, reserved: 60 } });
      // Nothing was added to b by the refused reservation, and it holds nothing: settling it releases nothing.
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 0, reserved: 60 },
        { key: b, spent: 0, reserved: 60 },
      ]);
      expect(await store.settle({ id: refused.id, lines: [] })).toEqual({ held: false });
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 0, reserved: 60 },
        { key: b, spent: 0, reserved: 60 },
      ]);
      await store.close();
    });

    it('settles to the actual amount and releases with 0, once per reservation', async () => {
      const { store, reserve, key } = await fresh();
      const a = key('a');
      const first = await reserve([{ key: a, limit: 100, amount: 60 }]);
      expect(await store.settle({ id: first.id, lines: [{ key: a, actual: 25 }] })).toEqual({ held: true });
      expect(await store.read([a])).toEqual([{ key: a, spent: 25, reserved: 0 }]);
      const second = await reserve([{ key: a, limit: 100, amount: 75 }]);
      expect(await store.settle({ id: second.id, lines: [{ key: a, actual: 0 }] })).toEqual({ held: true });
      expect(await store.read([a])).toEqual([{ key: a, spent: 25, reserved: 0 }]);
      const third = await reserve([{ key: a, limit: 100, amount: 40 }]);
      // A second settle of a reservation releases nothing more (it would free another call's share).
      expect(await store.settle({ id: second.id, lines: [{ key: a, actual: 5 }] })).toEqual({ held: false });
      expect(await store.read([a])).toEqual([{ key: a, spent: 30, reserved: 40 }]);
      expect((await reserve([{ key: a, limit: 100, amount: 31 }])).ok).toBe(false);
      expect((await reserve([{ key: a, limit: 100, amount: 30 }])).ok).toBe(true);
      expect(await store.settle({ id: third.id, lines: [{ key: a, actual: 40 }] })).toEqual({ held: true });
      await store.close();
    });

    it('refuses a reservation id that is already held', async () => {
      const { store, reserve, key } = await fresh();
      const a = key('a');
      const first = await reserve([{ key: a, limit: 100, amount: 10 }]);
      await expect(reserve([{ key: a, limit: 100, amount: 10 }], { id: first.id })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('already held'),
      });
      expect(await store.read([a])).toEqual([{ key: a, spent: 0, reserved: 10 }]);
      await store.close();
    });

    it('releases expired reservations once, and a late settle then only adds what was spent', async () => {
      const { store, reserve, key, prefix } = await fresh();
      const a = key('a');
      const b = key('b');
      const old = await reserve(
        [
          { key: a, limit: 100, amount: 30 },
          { key: b, limit: 100, amount: 5 },
        ],
        { expiresAt: NOW - 1 },
      );
      const current = await reserve([{ key: a, limit: 100, amount: 20 }], { expiresAt: NOW + HOUR });
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 0, reserved: 50 },
        { key: b, spent: 0, reserved: 5 },
      ]);
      const released = (await store.releaseExpired(NOW)).filter((each) => each.id.startsWith(prefix));
      expect(released).toEqual([
        {
          id: old.id,
          holder: `${prefix}holder`,
          expiresAt: NOW - 1,
          lines: [
            { key: a, amount: 30 },
            { key: b, amount: 5 },
          ],
        },
      ]);
      expect((await store.releaseExpired(NOW)).filter((each) => each.id.startsWith(prefix))).toEqual([]);
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 0, reserved: 20 },
        { key: b, spent: 0, reserved: 0 },
      ]);
      // The call was slow, not dead: its settle counts the money and releases nothing twice.
      expect(await store.settle({ id: old.id, lines: [{ key: a, actual: 7 }] })).toEqual({ held: false });
      expect(await store.settle({ id: current.id, lines: [{ key: a, actual: 3 }] })).toEqual({ held: true });
      expect(await store.read([a, b])).toEqual([
        { key: a, spent: 10, reserved: 0 },
        { key: b, spent: 0, reserved: 0 },
      ]);
      await store.close();
    });

    it('releases every reservation of one holder, and only those', async () => {
      const { store, reserve, key, prefix } = await fresh();
      const a = key('a');
      const mine = `${prefix}host-a`;
      await reserve([{ key: a, limit: 100, amount: 10 }], { holder: mine });
      await reserve([{ key: a, limit: 100, amount: 20 }], { holder: mine });
      const other = await reserve([{ key: a, limit: 100, amount: 40 }], { holder: `${prefix}host-b` });
      const released = await store.releaseHolder(mine);
      expect(released.map((each) => each.holder)).toEqual([mine, mine]);
      expect(released.flatMap((each) => each.lines.map((line) => line.amount)).sort()).toEqual([10, 20]);
      expect(await store.read([a])).toEqual([{ key: a, spent: 0, reserved: 40 }]);
      expect(await store.releaseHolder(mine)).toEqual([]);
      expect(await store.settle({ id: other.id, lines: [{ key: a, actual: 40 }] })).toEqual({ held: true });
      await store.close();
    });

    it('never lets concurrent reservations overshoot, and concurrent sweeps release each one once', async () => {
      const { store, reserve, key, prefix } = await fresh();
      const a = key('a');
      const results = await Promise.all(
        Array.from({ length: 200 }, () => reserve([{ key: a, limit: 1_000, amount: 7 }], { expiresAt: NOW - 1 })),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(142);
      const [counter] = await store.read([a]);
      expect(counter!.reserved).toBe(994);
      const sweeps = await Promise.all([
        store.releaseExpired(NOW),
        store.releaseExpired(NOW),
        store.releaseExpired(NOW),
      ]);
      const released = sweeps.flat().filter((each) => each.id.startsWith(prefix));
      expect(released).toHaveLength(142);
      expect(new Set(released.map((each) => each.id)).size).toBe(142);
      expect(await store.read([a])).toEqual([{ key: a, spent: 0, reserved: 0 }]);
      await store.close();
    });

    it('reads missing keys as zero and handles nano-dollar sized integers', async () => {
      const { store, reserve, key } = await fresh();
      expect(await store.read([key('none')])).toEqual([{ key: key('none'), spent: 0, reserved: 0 }]);
      const big = key('big');
      const limit = 20_000_000_000; // $20 in nano-dollars
      const first = await reserve([{ key: big, limit, amount: 19_999_999_999 }]);
      expect(first.ok).toBe(true);
      expect((await reserve([{ key: big, limit, amount: 2 }])).ok).toBe(false);
      await store.settle({ id: first.id, lines: [{ key: big, actual: 19_999_999_998 }] });
      expect(await store.read([big])).toEqual([{ key: big, spent: 19_999_999_998, reserved: 0 }]);
      await store.close();
    });
  });
}
