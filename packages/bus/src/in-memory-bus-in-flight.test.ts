import { describe, expect, it } from 'vitest';
import { InFlight } from './in-memory-bus-in-flight.js';
import type { InboxEntry } from './inbox.js';

const entry = (deliveryId: string): InboxEntry => ({
  deliveryId,
  envelope: { id: `m-${deliveryId}`, from: 'a', to: 'b', type: 'message', content: '', createdAt: 0 },
  attempt: 1,
  lastError: undefined,
  consumer: 'c',
  leasedUntil: 0,
});

const ids = (inFlight: InFlight) => [...inFlight.values()].map((each) => each.deliveryId);

describe('InFlight', () => {
  it('keeps lease order, finds and deletes by id, below and above the scanned size and back', () => {
    const inFlight = new InFlight();
    expect([inFlight.size, inFlight.first(), ids(inFlight)]).toEqual([0, undefined, []]);
    for (let index = 1; index <= 20; index++) inFlight.set(String(index), entry(String(index)));
    expect(inFlight.size).toBe(20);
    expect(inFlight.get('13')?.deliveryId).toBe('13');
    // A re-lease goes last.
    expect(inFlight.delete('1')).toBe(true);
    inFlight.set('1', entry('1'));
    expect(inFlight.first()?.deliveryId).toBe('2');
    expect(ids(inFlight).at(-1)).toBe('1');
    for (let index = 2; index <= 20; index++) expect(inFlight.delete(String(index))).toBe(true);
    expect([inFlight.size, ids(inFlight), inFlight.delete('2')]).toEqual([1, ['1'], false]);
    expect(inFlight.delete('1')).toBe(true);
    expect(inFlight.size).toBe(0);
    for (const id of ['x', 'y', 'z']) inFlight.set(id, entry(id));
    expect([inFlight.delete('y'), inFlight.get('y'), ids(inFlight)]).toEqual([true, undefined, ['x', 'z']]);
    inFlight.clear();
    expect([inFlight.size, ids(inFlight), new InFlight().size]).toEqual([0, [], 0]);
  });
});
