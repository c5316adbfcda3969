import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMcpToolsDemo } from './agent.js';

describe('mcp-tools example', () => {
  it('adds with server-everything and keeps a note with server-filesystem', async () => {
    const demo = await startMcpToolsDemo();
    try {
      const reply = await demo.agentrix.ask('clerk', 'Add 19 and 23 and keep a note of it.');
      expect(reply.content).toBe('The note says: 19 + 23 = 42');
      expect(await readFile(join(demo.directory, 'sum.txt'), 'utf8')).toBe('19 + 23 = 42\n');
      expect(demo.mcp.servers().map((server) => server.state)).toEqual(['connected', 'connected']);
    } finally {
      await demo.close();
    }
  });
});
