import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CONFORMANCE = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url),
);
const CLIENT = fileURLToPath(new URL('./conformance/conformance-client.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CONFORMANCE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('MCP conformance (client mode, @modelcontextprotocol/conformance 0.1.13)', () => {
  it('passes the core suite fully', async () => {
    const results = await mkdtemp(join(tmpdir(), 'agentrix-conformance-'));
    try {
      const command = `${process.execPath} --conditions=agentrix-source --import tsx ${CLIENT}`;
      const { code, output } = await run(['client', '--command', command, '--suite', 'core', '-o', results]);
      const summary = output.slice(output.indexOf('=== SUITE SUMMARY ==='));
      const total = /Total: (\d+) passed, (\d+) failed/.exec(summary);
      expect(total, output).not.toBeNull();
      expect(Number(total![1])).toBeGreaterThan(0);
      expect({ failed: Number(total![2]), summary }).toEqual({ failed: 0, summary });
      const scenarios = summary.split('\n').filter((line) => /^[✓✗] /.test(line));
      expect(scenarios.length).toBeGreaterThanOrEqual(19);
      for (const line of scenarios) expect(line).toMatch(/ 0 failed/);
      // The CLI also exits 1 on warnings; the only one we have seen is sse-retry's reconnect
      // timing on a loaded machine (the suite runs every scenario at once), which the spec calls
      // acceptable. Any other outcome must be a clean pass.
      if (code !== 0) expect(summary).toMatch(/^✗ sse-retry: \d+ passed, 0 failed, \d+ warnings$/m);
    } finally {
      await rm(results, { recursive: true, force: true });
    }
  });
});
