// Test support (`@agentrix/store/testing`): PGlite data directories copied from a template prepared once per
// machine, so a test file opens a database in ~0.3-0.5 s instead of ~3 s for a fresh initdb.
import { randomUUID } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../database.js';
import { openDatabase } from '../open-database.js';

const require = createRequire(import.meta.url);

async function pgliteVersion(): Promise<string> {
  // The package's exports hide its package.json: walk up from its entry point.
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (await exists(file)) {
      const manifest = JSON.parse(await readFile(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@electric-sql/pglite' && manifest.version) return manifest.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

let templateReady: Promise<string> | undefined;

/** The template directory: an initdb'd PGlite data dir with pgvector created, shared by all test files. */
export function pgliteTemplate(): Promise<string> {
  templateReady ??= (async () => {
    const root = path.join(os.tmpdir(), 'agentrix-pglite-templates');
    const template = path.join(root, `pglite-${await pgliteVersion()}-vector-v1`);
    if (await exists(path.join(template, 'READY'))) return template;
    await mkdir(root, { recursive: true });
    const building = `${template}.building-${process.pid}-${randomUUID().slice(0, 8)}`;
    const database = await openDatabase(building);
    await database.close();
    await writeFile(path.join(building, 'READY'), new Date().toISOString());
    try {
      await rename(building, template);
    } catch {
      // Another test file published it first: use theirs.
      await rm(building, { recursive: true, force: true });
    }
    return template;
  })();
  return templateReady;
}

/** Makes `directory` a copy of the template: a PGlite data directory ready to open. */
export async function copyTemplate(directory: string): Promise<void> {
  await cp(await pgliteTemplate(), directory, { recursive: true });
  await rm(path.join(directory, 'READY'), { force: true });
}

export interface TestPglite {
  database: Database;
  directory: string;
  /** Closes the database and removes its directory. */
  dispose(): Promise<void>;
}

/** A fresh on-disk PGlite database copied from the template, in its own temp directory. */
export async function openTestPglite(): Promise<TestPglite> {
  const directory = path.join(os.tmpdir(), `agentrix-pglite-test-${randomUUID()}`);
  await copyTemplate(directory);
  const database = await openDatabase(directory);
  return {
    database,
    directory,
    async dispose() {
      await database.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}
