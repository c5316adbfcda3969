import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.js';
import { forgetPgliteTemplates, isDataDirectoryTarball } from './pglite-template.js';

const templates = await mkdtemp(path.join(tmpdir(), 'agentrix-templates-test-'));
const work = await mkdtemp(path.join(tmpdir(), 'agentrix-template-dirs-'));

afterAll(async () => {
  forgetPgliteTemplates();
  await rm(templates, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

async function templateFile(): Promise<string> {
  const file = (await readdir(templates)).find((name) => name.endsWith('-plain-3.tar'));
  if (file === undefined) throw new Error(`no template in ${templates}`);
  return path.join(templates, file);
}

async function roundTrip(url: string): Promise<number> {
  const database = await openDatabase(url, { vector: 'off', templateDirectory: templates });
  try {
    await sql`create table if not exists t (n int)`.execute(database.kysely);
    await sql`insert into t values (1)`.execute(database.kysely);
    const { rows } = await sql<{ count: number }>`select count(*)::int as count from t`.execute(database.kysely);
    return rows[0]!.count;
  } finally {
    await database.close();
  }
}

describe('PGlite templates', () => {
  it('keeps a template on the first fresh open and starts fresh databases (memory and new directories) from it', async () => {
    expect(await roundTrip('memory://')).toBe(1);
    const file = await templateFile();
    expect((await stat(file)).size).toBeGreaterThan(1_000_000);
    // A second fresh database is empty: the template holds no data of the first.
    expect(await roundTrip('memory://')).toBe(1);
    const directory = path.join(work, 'new');
    expect(await roundTrip(directory)).toBe(1);
    expect(existsSync(path.join(directory, 'PG_VERSION'))).toBe(true);
    // Reopened from its own files, not from the template.
    expect(await roundTrip(directory)).toBe(2);
  }, 60_000);

  it('starts from a small data directory: 1 MB WAL segments, no template databases', async () => {
    const database = await openDatabase('memory://', { vector: 'off', templateDirectory: templates });
    try {
      const setting = await sql<{ size: string }>`select current_setting('wal_segment_size') as size`.execute(
        database.kysely,
      );
      expect(setting.rows[0]!.size).toBe('1MB');
      const databases = await sql<{ name: string }>`select datname as name from pg_database order by 1`.execute(
        database.kysely,
      );
      expect(databases.rows.map((row) => row.name)).toEqual(['postgres']);
      // PGlite serves one database; another can still be made from it.
      await sql`create database another template postgres`.execute(database.kysely);
    } finally {
      await database.close();
    }
    // A third of what initdb leaves (39.9 MB with a 16 MB WAL segment and two template databases).
    expect((await stat(await templateFile())).size).toBeLessThan(16_000_000);
  }, 60_000);

  it('makes the template again when it was made by another PGlite version', async () => {
    const file = await templateFile();
    const manifest = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { key: string };
    await writeFile(`${file}.json`, JSON.stringify({ key: `0.0.0-${manifest.key}` }));
    forgetPgliteTemplates();
    expect(await roundTrip('memory://')).toBe(1);
    expect(JSON.parse(await readFile(`${file}.json`, 'utf8')).key).toBe(manifest.key);
  }, 60_000);

  it('takes only a whole data-directory tarball (a damaged one is made again, never given to PGlite)', async () => {
    const bytes = await readFile(await templateFile());
    expect(isDataDirectoryTarball(bytes)).toBe(true);
    expect(isDataDirectoryTarball(bytes.subarray(0, bytes.length - 100_000))).toBe(false);
    expect(isDataDirectoryTarball(Buffer.from('not a tarball'))).toBe(false);
    const flipped = Buffer.from(bytes);
    flipped[10] = flipped[10]! ^ 0xff;
    expect(isDataDirectoryTarball(flipped)).toBe(false);
  });
});
