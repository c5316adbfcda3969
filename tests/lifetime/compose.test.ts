import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

// Issue 13, item 1: what createAgentrix opens (a PGlite directory store, an MCP stdio server) is
// closed by `await using`, or when construction fails halfway; a plain script then exits by itself.
const script = fileURLToPath(new URL('./compose.script.ts', import.meta.url));
const directories: string[] = [];

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function storeDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'agentrix-compose-'));
  directories.push(directory);
  return directory;
}

describe('createAgentrix in a plain script', () => {
  it('asks through an MCP tool on a PGlite directory store, closes, and exits by itself', async () => {
    const outcome = await runScript(script, { STORE_DIRECTORY: await storeDirectory() }, 60_000);
    expect(outcome).toMatchObject({ code: 0, signal: null });
    const [result, exit] = outcome.stdout.trim().split('\n');
    expect(result).toMatch(/^RESULT added: .*\b42\b/);
    expect(Number(/^EXIT (\d+) ms after close$/.exec(exit ?? '')?.[1])).toBeLessThan(2_000);
  }, 90_000);

  it('closes the store and the server it opened when a later step fails, and exits by itself', async () => {
    const outcome = await runScript(script, { STORE_DIRECTORY: await storeDirectory(), FAIL: '1' }, 60_000);
    expect(outcome).toMatchObject({ code: 0, signal: null });
    const [failed, exit] = outcome.stdout.trim().split('\n');
    expect(failed).toBe('FAILED INVALID_ARGUMENT');
    expect(Number(/^EXIT (\d+) ms after close$/.exec(exit ?? '')?.[1])).toBeLessThan(2_000);
  }, 90_000);
});
