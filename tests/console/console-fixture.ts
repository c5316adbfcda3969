import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChatModel, ChatRequest, ChatStreamPart } from '@agentrix/core';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';

/** Debian's build (apt-get install chromium; scripts/with-services.mjs installs it when missing). Never downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Builds the console with its own vite config into a temp dir, as the package build does into
 * dist/static: the tests never depend on a stale or missing `pnpm build`. Returns the dir and a
 * remover.
 */
export async function buildConsole(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const packageJson = createRequire(import.meta.url).resolve('@agentrix/console/package.json');
  const dir = await mkdtemp(join(tmpdir(), 'agentrix-console-'));
  await build({
    configFile: join(dirname(packageJson), 'vite.config.ts'),
    build: { outDir: dir, emptyOutDir: true },
    logLevel: 'warn',
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file of a directory, recursively, with its size. */
export async function filesOf(dir: string): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile());
  return Promise.all(
    files.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: (await readFile(path)).length };
    }),
  );
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run the tests through scripts/with-services.mjs (it installs it) or apt-get install -y chromium`,
    );
  }
  // --no-sandbox: the suite runs as root in CI, where Chromium's sandbox refuses to start.
  // --disable-dev-shm-usage: containers often have a 64 MB /dev/shm, too small for a renderer.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A model that streams text slowly (a pause before each text part), so a browser can see the
 * tokens arrive one by one and an agent stay `running` long enough to be seen. The mock stays
 * at the LLM boundary: this only spaces its parts in time.
 */
export function slowStreaming(model: ChatModel, pauseMs: number): ChatModel {
  return {
    name: model.name,
    generate: (request: ChatRequest) => model.generate(request),
    async *stream(request: ChatRequest): AsyncGenerator<ChatStreamPart> {
      for await (const part of model.stream(request)) {
        if (part.type === 'text-delta') await new Promise((resolve) => setTimeout(resolve, pauseMs));
        yield part;
      }
    },
  };
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
