import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Proves that a host application outside the workspace can install the published shape of every
// package (built dist, `pnpm pack` tarballs with `workspace:*` rewritten to versions) with plain
// npm, and use it from ESM and from CommonJS.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TIMEOUT = 180_000;

interface Packed {
  name: string;
  version: string;
  dir: string;
  tarball: string;
  files: string[];
}

interface AppResult {
  format: string;
  resolved: string;
  reply: string;
  notFound: { code: string; isInstance: boolean };
}

/** Runs a command; rejects with its output when it fails. */
function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} failed: ${err.message}\n${stdout}\n${stderr}`));
      } else resolve(stdout);
    });
  });
}

/**
 * The environment of a plain host app: without the npm_config_* and friends that `pnpm test` injects
 * (npm would obey them) nor the test runner's NODE_OPTIONS / VITEST* variables.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|vitest|node_options$)/i.test(key)) env[key] = value;
  }
  return env;
}

/** Parses the last JSON line a script printed. */
function lastJsonLine(stdout: string): AppResult {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON line in output:\n${stdout}`);
  return JSON.parse(line) as AppResult;
}

const esmApp = `
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { AgentrixError } from '@agentrix/core';

const model = new MockLLM({ script: [{ text: 'hello from mock' }] });
const agentrix = await createAgentrix({ models: { default: model } });
try {
  await agentrix.create({ id: 'a1', instructions: 'be nice' });
  const reply = await agentrix.ask('a1', 'hi', { timeoutMs: 5000 });
  let notFound = { code: 'did not reject', isInstance: false };
  try {
    await agentrix.ask('missing', 'x', { timeoutMs: 5000 });
  } catch (err) {
    notFound = { code: err?.code, isInstance: AgentrixError.isInstance(err) };
  }
  const resolved = import.meta.resolve('@agentrix/runtime');
  console.log(JSON.stringify({ format: 'esm', resolved, reply: reply.content, notFound }));
} finally {
  await agentrix.close();
}
`;

const cjsApp = `
const { createAgentrix } = require('@agentrix/runtime');
const { MockLLM } = require('@agentrix/testing');
const { AgentrixError } = require('@agentrix/core');

async function main() {
  const model = new MockLLM({ script: [{ text: 'hello from mock' }] });
  const agentrix = await createAgentrix({ models: { default: model } });
  try {
    await agentrix.create({ id: 'a1', instructions: 'be nice' });
    const reply = await agentrix.ask('a1', 'hi', { timeoutMs: 5000 });
    let notFound = { code: 'did not reject', isInstance: false };
    try {
      await agentrix.ask('missing', 'x', { timeoutMs: 5000 });
    } catch (err) {
      notFound = { code: err && err.code, isInstance: AgentrixError.isInstance(err) };
    }
    const resolved = require.resolve('@agentrix/runtime');
    console.log(JSON.stringify({ format: 'cjs', resolved, reply: reply.content, notFound }));
  } finally {
    await agentrix.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

// The one event stream as a host sees it through the published .d.ts / .d.cts files: each
// package's events join core's AgentrixEventMap by declaration merging, in both module formats.
const eventsCheck = `
import { AgentrixEvents } from '@agentrix/core';
import type { Gateway } from '@agentrix/gateway';
import type { Memory } from '@agentrix/memory';
import type { Supervisor } from '@agentrix/runtime';
import type { Scheduler } from '@agentrix/scheduler';
import type { SkillExecutor } from '@agentrix/skills';

export type Parts = [Gateway, Memory, Supervisor, Scheduler, SkillExecutor];
const events = new AgentrixEvents();
events.on('turn.completed', (event) => event.reply.toUpperCase());
events.on('budget.reserved', (event) => event.callId.toUpperCase());
events.on('gateway.retry', (event) => event.delayMs.toFixed());
events.on('skill.retry', (event) => event.attempt.toFixed());
events.on('memory.retrieved', (event) => event.facts.toFixed());
events.on('tick.sent', (event) => event.agentId.toUpperCase());
events.on('job.dead-lettered', (event) => event.error.message.toUpperCase());
events.on('worker.crash-loop', (event) => event.crashes.toFixed());
// @ts-expect-error an event no package declares
events.on('no.such-event', () => {});
// @ts-expect-error a payload field the event does not have
events.on('tick.sent', (event) => event.callId);
`;

describe('host app installs the packed packages', () => {
  let workDir: string;
  let appDir: string;
  const packed: Packed[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'agentrix-host-app-'));
    const tarballDir = path.join(workDir, 'tarballs');
    appDir = path.join(workDir, 'app');

    await exec('pnpm', ['-r', '--filter', './packages/*', 'build'], repoRoot);

    const packagesDir = path.join(repoRoot, 'packages');
    for (const entry of (await readdir(packagesDir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const dir = path.join(packagesDir, entry.name);
      if (!entry.isDirectory() || !existsSync(path.join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
      if (manifest.private) continue;
      const out = await exec('pnpm', ['pack', '--json', '--pack-destination', tarballDir], dir);
      const info = JSON.parse(out.slice(out.indexOf('{'))) as {
        name: string;
        version: string;
        filename: string;
        files: { path: string }[];
      };
      const tarball = path.isAbsolute(info.filename) ? info.filename : path.join(tarballDir, info.filename);
      packed.push({ name: info.name, version: info.version, dir, tarball, files: info.files.map((f) => f.path) });
    }

    // Every workspace package comes from its tarball, also as a dependency of another package
    // (its packed manifest asks for the version, which is not on the registry).
    const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
    const overrides = Object.fromEntries(packed.map((p) => [p.name, `$${p.name}`]));
    await mkdir(appDir, { recursive: true });
    await writeFile(
      path.join(appDir, 'package.json'),
      `${JSON.stringify({ name: 'agentrix-host-app', version: '1.0.0', private: true, dependencies, overrides }, null, 2)}\n`,
    );
    await writeFile(path.join(appDir, 'app.mjs'), esmApp);
    await writeFile(path.join(appDir, 'app.cjs'), cjsApp);
    await writeFile(path.join(appDir, 'events.mts'), eventsCheck);
    await writeFile(path.join(appDir, 'events.cts'), eventsCheck);
    const compilerOptions = {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      lib: ['ES2023'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      typeRoots: [path.join(repoRoot, 'node_modules/@types')],
      types: ['node'],
    };
    await writeFile(
      path.join(appDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: ['events.mts', 'events.cts'] }),
    );
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], appDir, cleanEnv());
  }, TIMEOUT);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('packs every package with its dist build and versions instead of workspace:*', async () => {
    const names = packed.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@agentrix/core', '@agentrix/runtime', '@agentrix/testing']));
    for (const p of packed) {
      expect(p.files, p.name).toEqual(
        expect.arrayContaining([
          'package.json',
          'dist/index.js',
          'dist/index.cjs',
          'dist/index.d.ts',
          'dist/index.d.cts',
        ]),
      );
      expect(
        p.files.filter((f) => f.startsWith('src/')),
        p.name,
      ).toEqual([]);
      const installed = await readFile(path.join(appDir, 'node_modules', p.name, 'package.json'), 'utf8');
      expect(installed, p.name).not.toContain('workspace:');
      expect(JSON.parse(installed).version).toBe(p.version);
    }
  });

  it(
    'passes publint (exports, types and files as published)',
    async () => {
      const problems: string[] = [];
      for (const p of packed) {
        const { messages, pkg } = await publint({ pkgDir: p.dir, pack: 'pnpm', level: 'warning' });
        for (const message of messages) problems.push(`${p.name}: ${formatMessage(message, pkg)}`);
      }
      expect(problems).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "types every package's events on one AgentrixEvents (ESM and CommonJS declarations)",
    async () => {
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      await exec(process.execPath, [tsc, '-p', path.join(appDir, 'tsconfig.json')], appDir, cleanEnv());
    },
    TIMEOUT,
  );

  it.each([
    { app: 'app.mjs', format: 'esm', entry: 'index.js' },
    { app: 'app.cjs', format: 'cjs', entry: 'index.cjs' },
  ])(
    'runs an agent from $format ($app)',
    async ({ app, format, entry }) => {
      const result = lastJsonLine(await exec(process.execPath, [app], appDir, cleanEnv()));
      expect(result.format).toBe(format);
      expect(result.resolved).toMatch(new RegExp(`node_modules/@agentrix/runtime/dist/${entry.replace('.', '\\.')}$`));
      expect(result.reply).toBe('hello from mock');
      expect(result.notFound).toEqual({ code: 'AGENT_NOT_FOUND', isInstance: true });
    },
    TIMEOUT,
  );
});
