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
});
