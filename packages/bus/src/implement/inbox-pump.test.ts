import { describe, expect, it } from 'vitest';
import { InboxPump } from './inbox-pump.js';

describe('InboxPump', () => {
  it('lets one loop run at a time: asking while it runs makes it pass once more', () => {
    const pump = new InboxPump();
    expect(pump.request()).toBe(true);
    expect(pump.running).toBe(true);
    pump.beginPass();
    expect(pump.request()).toBe(false);
    expect(pump.request()).toBe(false);
    expect(pump.again).toBe(true);
    pump.beginPass();
    expect(pump.again).toBe(false);
    pump.stop();
    expect(pump.running).toBe(false);
    expect(pump.request()).toBe(true);
  });

  it('counts failures in a row until a loop succeeds', () => {
    const pump = new InboxPump();
    expect(pump.failed()).toBe(1);
    expect(pump.failed()).toBe(2);
    expect(pump.succeeded()).toBe(2);
    expect(pump.succeeded()).toBe(0);
    expect(pump.failed()).toBe(1);
  });
});
