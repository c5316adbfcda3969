import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONFORMANCE = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url),
);
const CLIENT = fileURLToPath(new URL('./conformance/conformance-client.ts', import.meta.url));

/**
 * The `core` suite of @modelcontextprotocol/conformance 0.1.13 is its 15 `auth/*` scenarios (the
 * `auth` suite), the three below and sse-retry. `--suite core` starts all 19 at once: on two busy
 * cores the tsx clients took over 30 s to start (the CLI's timeout) and sse-retry's reconnect,
 * timed against a 500 ms `retry` field, came more than twice late (a failure). Here the client is
 * bundled once (no TypeScript to compile per process), the auth suite runs beside the three
 * untimed scenarios, and sse-retry runs alone after them: 31-40 s at a load average of 27-29, where
 * `--suite core` with tsx clients took 55-64 s.
 */
const UNTIMED = ['initialize', 'tools_call', 'elicitation-sep1034-client-defaults'];
const AUTH_SCENARIOS = 15;

function run(args: string[]): Promise<{ output: string }> {
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
    child.on('close', () => resolve({ output }));
  });
}

interface Outcome {
  scenario: string;
  passed: number;
  failed: number;
  /** What the CLI printed (a suite's summary for a scenario run in a suite). */
  output: string;
}

describe('MCP conformance (client mode, @modelcontextprotocol/conformance 0.1.13)', () => {
  let directory: string;
  let command: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'agentrix-conformance-'));
    const bundle = join(directory, 'client.mjs');
    // The client and the workspace sources it imports, as one file: each scenario's process
    // starts in a fraction of a second instead of compiling TypeScript through tsx.
    await build({
      entryPoints: [CLIENT],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['agentrix-source'],
      logLevel: 'error',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    command = `${process.execPath} ${bundle}`;
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** One scenario: its counts, and its warnings (0 unless `Passed: ...` says otherwise). */
  async function scenario(name: string): Promise<Outcome & { warnings: number }> {
    const { output } = await run(['client', '--command', command, '--scenario', name, '-o', join(directory, 'out')]);
    const counts = /Passed: (\d+)\/\d+, (\d+) failed, (\d+) warnings/.exec(output);
    expect(counts, output).not.toBeNull();
    return {
      scenario: name,
      passed: Number(counts![1]),
      failed: Number(counts![2]),
      warnings: Number(counts![3]),
      output,
    };
  }

  /** A whole suite, in parallel: each scenario's line of its summary. */
  async function suite(name: string): Promise<{ outcomes: Outcome[]; warnings: number; summary: string }> {
    const { output } = await run(['client', '--command', command, '--suite', name, '-o', join(directory, 'out')]);
    const summary = output.slice(output.indexOf('=== SUITE SUMMARY ==='));
    const outcomes = [...summary.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gm)].map((line) => ({
      scenario: line[1]!,
      passed: Number(line[2]),
      failed: Number(line[3]),
      output: summary,
    }));
    const total = /Total: \d+ passed, \d+ failed, (\d+) warnings/.exec(summary);
    expect(total, output).not.toBeNull();
    return { outcomes, warnings: Number(total![1]), summary };
  }

  it('passes the core suite fully', async () => {
    const [auth, ...untimed] = await Promise.all([suite('auth'), ...UNTIMED.map(scenario)]);
    const sseRetry = await scenario('sse-retry');

    expect(auth.outcomes.map((outcome) => outcome.scenario).filter((name) => name.startsWith('auth/'))).toHaveLength(
      AUTH_SCENARIOS,
    );
    for (const outcome of [...auth.outcomes, ...untimed, sseRetry]) {
      expect(outcome.passed, `${outcome.scenario}\n${outcome.output}`).toBeGreaterThan(0);
      expect({ scenario: outcome.scenario, failed: outcome.failed }, outcome.output).toEqual({
        scenario: outcome.scenario,
        failed: 0,
      });
    }
    expect(auth.warnings, auth.summary).toBe(0);
    for (const outcome of untimed) expect(outcome.warnings, outcome.output).toBe(0);
    // sse-retry may warn that the reconnect came late (under 2x the retry field), which the spec
    // calls acceptable on a loaded machine; later than that is a failure, asserted above.
    expect(sseRetry.passed + sseRetry.warnings, sseRetry.output).toBe(3);
  });
});
