import { describe, expect, it } from 'vitest';
import { createUniqueIds } from './unique-ids.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createUniqueIds', () => {
  it('gives distinct ids in the shape of a UUID v4, apart between generators', () => {
    const first = createUniqueIds();
    const second = createUniqueIds();
    const ids = new Set<string>();
    for (let index = 0; index < 10_000; index++) {
      const id = first();
      expect(id).toMatch(UUID_V4);
      ids.add(id);
      ids.add(second());
    }
    expect(ids.size).toBe(20_000);
    expect(first().slice(0, 24)).not.toBe(second().slice(0, 24));
  });

  it('pads the counter to 12 hex digits', () => {
    const next = createUniqueIds();
    const ids = Array.from({ length: 300 }, next);
    expect(ids[0]!.slice(24)).toBe('000000000000');
    expect(ids[255]!.slice(24)).toBe('0000000000ff');
    expect(ids[256]!.slice(24)).toBe('000000000100');
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
  });
});
