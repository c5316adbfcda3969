import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Extension, PGlite } from '@electric-sql/pglite';
import type { Migration } from './migrations.js';

/**
 * Pre-initialised PGlite data directories. A fresh PGlite runs initdb, which costs about 2 s
 * (3 s on a loaded 2-core machine; bench/store "Opening a database"), and loading a tarball of
 * a data directory that initdb made costs about 0.25 s: so the first open of each PGlite version
 * and pgvector mode keeps such a tarball, in this process and in `directory`, and every later
 * fresh database starts from it.
 *
 * A template is not trusted blindly: one made by another PGlite version (its manifest says
 * which) is made again, and one PGlite cannot start from is discarded by the opener
 * ({@link discardPgliteTemplate}), which then starts from a new one.
 */
export interface PgliteTemplateOptions {
  PGlite: typeof PGlite;
  vector: boolean;
  extensions: Record<string, Extension>;
  /** Where templates are kept between processes (used only when this user alone may write it); `undefined`: in this process only. */
  directory: string | undefined;
}

/** Default directory of templates shared by this user's processes (per user: see {@link trusted}). */
export const DEFAULT_TEMPLATE_DIRECTORY = path.join(
  tmpdir(),
  `agentrix-pglite-templates-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`,
);

/** Bump when what a template holds changes (the statements of {@link make}). */
const TEMPLATE_FORMAT = 3;

/**
 * A smaller data directory starts faster: PGlite copies every file of the tarball into its
 * in-memory file system before Postgres boots, so the open costs about its size and its number
 * of files. initdb's WAL segment (16 MB of mostly zeros) becomes 1 MB (`--wal-segsize=1`;
 * Postgres recycles segments as before, a busy database keeps more, smaller files), and the two
 * template databases (300 files, 7.3 MB each), which only `CREATE DATABASE` reads, are dropped:
 * PGlite serves one database, `postgres`. 39.9 MB -> 13.5 MB, a fresh open 379-422 -> 226-257 ms
 * in one run (bench/store "Opening a database"). `CREATE DATABASE x TEMPLATE postgres` still works.
 */
const INITDB_PARAMS = ['--wal-segsize=1'];

const templates = new Map<string, Promise<Blob>>();

/** The installed PGlite's version ('unknown' when it cannot be read, e.g. from a bundle). */
function pgliteVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@electric-sql/pglite');
    return (require(path.join(path.dirname(entry), '..', 'package.json')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function templateKey(options: PgliteTemplateOptions): string {
  return `${pgliteVersion()}-${options.vector ? 'vector' : 'plain'}-${TEMPLATE_FORMAT}`;
}

function templateFile(directory: string, key: string): string {
  return path.join(directory, `pglite-${key}.tar`);
}

/** The template for this PGlite version and pgvector mode (made on first use, then shared). */
export function pgliteTemplate(options: PgliteTemplateOptions): Promise<Blob> {
  const key = templateKey(options);
  const cacheKey = `${options.directory}:${key}`;
  let template = templates.get(cacheKey);
  if (template === undefined) {
    template = loadOrMake(options, key);
    templates.set(cacheKey, template);
    // A failure is not remembered: the next open tries again.
    template.catch(() => templates.delete(cacheKey));
  }
  return template;
}

/**
 * PGlite could not start from the template: forget it (in this process and on disk), and the
 * migrated template of `migrations` with it, so the next {@link pgliteTemplate} makes a new one.
 */
export async function discardPgliteTemplate(options: PgliteTemplateOptions, migrations?: string): Promise<void> {
  const base = templateKey(options);
  for (const key of migrations === undefined ? [base] : [base, `${base}-m${migrations}`]) {
    templates.delete(`${options.directory}:${key}`);
    if (options.directory === undefined) continue;
    const file = templateFile(options.directory, key);
    await rm(`${file}.json`, { force: true });
    await rm(file, { force: true });
  }
}

/**
 * A template directory others could write to (in a shared temp dir) could hand this process a
 * database with someone else's tables, functions or triggers: only a directory of this user that
 * nobody else may write is used (created so when missing).
 */
async function trusted(directory: string): Promise<boolean> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const info = await stat(directory);
  const mine = typeof process.getuid !== 'function' || info.uid === process.getuid();
  return mine && (info.mode & 0o022) === 0;
}

async function loadOrMake(options: PgliteTemplateOptions, key: string): Promise<Blob> {
  const kept = await load(options.directory, key);
  if (kept !== undefined) return kept;
  const template = await make(options);
  await save(options.directory, key, template);
  return template;
}

/** The template `key` kept in `directory`, or `undefined` when there is none to trust. */
async function load(directory: string | undefined, key: string): Promise<Blob | undefined> {
  if (directory === undefined || !(await trusted(directory).catch(() => false))) return undefined;
  const file = templateFile(directory, key);
  try {
    const manifest = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { key?: string };
    // Made by another PGlite version (or format), or damaged: not used.
    if (manifest.key === key) {
      const bytes = await readFile(file);
      if (isDataDirectoryTarball(bytes)) return new Blob([bytes]);
    }
  } catch {
    // Missing or unreadable.
  }
  return undefined;
}

/** Keeps `template` in `directory` when it is trusted; this process has it either way. */
async function save(directory: string | undefined, key: string, template: Blob): Promise<void> {
  if (directory === undefined || !(await trusted(directory).catch(() => false))) return;
  const file = templateFile(directory, key);
  // Written beside, then renamed: a process reading it never sees half a file.
  const partial = `${file}.${process.pid}.${Date.now()}`;
  try {
    await writeFile(partial, new Uint8Array(await template.arrayBuffer()));
    await writeFile(`${partial}.json`, JSON.stringify({ key, createdAt: new Date().toISOString() }));
    await rename(partial, file);
    await rename(`${partial}.json`, `${file}.json`);
  } catch {
    // Not kept on disk (read-only tmp, say).
    await rm(partial, { force: true });
    await rm(`${partial}.json`, { force: true });
  }
}

/**
 * Migrated templates: the data directory of a fresh database right after `migrations` ran on it
 * (the store's own, say), so the next fresh database with the same migrations skips them too
 * (50-130 ms for `storeMigrations`). Keyed by the base template's key, the schema and every
 * migration's name and source, so a changed migration never comes from an old template.
 */
export function migrationsKey(schema: string | undefined, migrations: readonly Migration[]): string {
  const hash = createHash('sha256').update(schema ?? '');
  for (const migration of migrations) hash.update(`\0${migration.name}\0${String(migration.up)}`);
  return hash.digest('hex').slice(0, 16);
}

/** The migrated template kept for `migrations` (in this process or in `directory`), or `undefined`. */
export async function migratedTemplate(options: PgliteTemplateOptions, migrations: string): Promise<Blob | undefined> {
  const key = `${templateKey(options)}-m${migrations}`;
  const cacheKey = `${options.directory}:${key}`;
  const cached = templates.get(cacheKey);
  if (cached !== undefined) return cached.catch(() => undefined);
  const kept = await load(options.directory, key);
  if (kept !== undefined && !templates.has(cacheKey)) templates.set(cacheKey, Promise.resolve(kept));
  return kept;
}

/** Migrated templates kept per PGlite version and pgvector mode, the most recently made first. */
const MIGRATED_KEPT = 4;

/** Keeps `template` (a database with the migrations of `migrations` applied, nothing else) as their migrated template. */
export async function keepMigratedTemplate(
  options: PgliteTemplateOptions,
  migrations: string,
  template: Blob,
): Promise<void> {
  const base = templateKey(options);
  // One migrated template per mode in this process (each is a 14 MB Blob), a few on disk.
  for (const cacheKey of templates.keys()) {
    if (cacheKey.startsWith(`${options.directory}:${base}-m`)) templates.delete(cacheKey);
  }
  templates.set(`${options.directory}:${base}-m${migrations}`, Promise.resolve(template));
  await save(options.directory, `${base}-m${migrations}`, template);
  if (options.directory !== undefined) await prune(options.directory, `pglite-${base}-m`);
}

/** Removes all but the {@link MIGRATED_KEPT} newest templates whose file names start with `prefix`. */
async function prune(directory: string, prefix: string): Promise<void> {
  try {
    const files = (await readdir(directory)).filter((name) => name.startsWith(prefix) && name.endsWith('.tar'));
    if (files.length <= MIGRATED_KEPT) return;
    const dated = await Promise.all(
      files.map(async (name) => ({ name, made: (await stat(path.join(directory, name))).mtimeMs })),
    );
    dated.sort((a, b) => b.made - a.made);
    for (const { name } of dated.slice(MIGRATED_KEPT)) {
      await rm(path.join(directory, `${name}.json`), { force: true });
      await rm(path.join(directory, name), { force: true });
    }
  } catch {
    // Another process pruned the same files: nothing to do.
  }
}

/** A fresh data directory (initdb, then what every database of the mode needs), as a tarball. */
async function make(options: PgliteTemplateOptions): Promise<Blob> {
  const pglite = new options.PGlite('memory://', { extensions: options.extensions, initDbStartParams: INITDB_PARAMS });
  try {
    await pglite.waitReady;
    if (options.vector) await pglite.exec('create extension if not exists vector');
    await pglite.exec(`update pg_database set datistemplate = false where datname in ('template0', 'template1')`);
    await pglite.exec('drop database template0');
    await pglite.exec('drop database template1');
    return await dataDirectory(pglite);
  } finally {
    await pglite.close();
  }
}

/** The data directory of `pglite` as a template: checkpointed, then dumped as an uncompressed tarball. */
export async function dataDirectory(pglite: PGlite): Promise<Blob> {
  await pglite.exec('checkpoint');
  return pglite.dumpDataDir('none');
}

/**
 * True when `bytes` is a whole tar archive (every header's checksum right, every entry inside the
 * bytes) holding a Postgres data directory (`PG_VERSION`, `global/pg_control`). PGlite given a
 * damaged tarball fails to start and leaves `process.exitCode` at 1, so it is checked first.
 */
export function isDataDirectoryTarball(bytes: Uint8Array): boolean {
  const names = new Set<string>();
  let offset = 0;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const stored = Number.parseInt(field(header, 148, 8), 8);
    let sum = 0;
    for (let index = 0; index < 512; index++) sum += index >= 148 && index < 156 ? 32 : header[index]!;
    if (stored !== sum) return false;
    const size = Number.parseInt(field(header, 124, 12) || '0', 8);
    if (!Number.isFinite(size) || size < 0) return false;
    const prefix = field(header, 345, 155);
    const name = field(header, 0, 100);
    names.add((prefix === '' ? name : `${prefix}/${name}`).replace(/^(\.\/|\/)+/, ''));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  if (offset > bytes.length) return false;
  const hasFile = (suffix: string) => [...names].some((name) => name === suffix || name.endsWith(`/${suffix}`));
  return hasFile('PG_VERSION') && hasFile('global/pg_control');
}

/** A NUL-terminated ASCII field of a tar header. */
function field(header: Uint8Array, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return Buffer.from(end < 0 ? raw : raw.subarray(0, end))
    .toString('latin1')
    .trim();
}

/** Forgets the templates of this process (for tests that damage the files on disk). */
export function forgetPgliteTemplates(): void {
  templates.clear();
}
