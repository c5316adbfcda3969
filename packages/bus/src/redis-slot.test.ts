import { describe, expect, it } from 'vitest';
import { keySlot } from './redis-slot.js';

describe('keySlot', () => {
  // Expected slots from `redis-cli cluster keyslot <key>` on Redis 7.
  it('matches Redis Cluster for plain keys and hash tags', () => {
    expect(keySlot('a')).toBe(15495);
    expect(keySlot('b')).toBe(3300);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('agentrix:ns:inbox:{a}:stream')).toBe(15495);
    expect(keySlot('x{}y')).toBe(16116);
    expect(keySlot('{}a')).toBe(10875);
    expect(keySlot('{a}b}')).toBe(15495);
    expect(keySlot('ünïcode{é}')).toBe(10180);
  });
});
