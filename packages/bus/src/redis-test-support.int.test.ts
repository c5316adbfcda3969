import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnRedisServer } from './redis-test-support.js';

describe('OwnRedisServer', () => {
  const tmpdir = process.env.TMPDIR;
  afterEach(() => {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  });

  it('leaves no temp dir behind when redis-server does not start, nor after stop()', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'agentrix-own-redis-'));
    try {
      process.env.TMPDIR = scratch;
      await expect(OwnRedisServer.start({ args: ['--no-such-option', 'yes'] })).rejects.toThrow(/exited/);
      expect(readdirSync(scratch)).toEqual([]);
      const server = await OwnRedisServer.start({ persistence: false });
      expect(readdirSync(scratch)).toHaveLength(1);
      await server.stop();
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
