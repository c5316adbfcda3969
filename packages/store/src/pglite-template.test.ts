import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Migration } from './migrations.js';
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

  describe('migrated templates', () => {
    /** Migrations that count how often they run (a template skips them) and make one table. */
    function counted(name: string, runs: { count: number }): Migration[] {
      return [
        {
          name,
          async up(db) {
            runs.count++;
            await sql`create table ${sql.table(`${name}_t`)} (n int)`.execute(db);
          },
        },
      ];
    }

    async function migratedFiles(): Promise<string[]> {
      return (await readdir(templates)).filter((name) => /-plain-3-m[0-9a-f]{16}\.tar$/.test(name)).sort();
    }

    async function open(url: string, migrations: Migration[], schema?: string) {
      return openDatabase(url, {
        vector: 'off',
        templateDirectory: templates,
        migrations,
        ...(schema === undefined ? {} : { schema }),
      });
    }

    it('runs the migrations of the first fresh open only: later fresh databases start migrated, and empty', async () => {
      const runs = { count: 0 };
      const migrations = counted('0001_once', runs);
      const first = await open('memory://', migrations);
      await sql`insert into "0001_once_t" values (1)`.execute(first.kysely);
      await first.close();
      expect(runs.count).toBe(1);
      expect(await migratedFiles()).toHaveLength(1);
      forgetPgliteTemplates(); // as a new process: from the file on disk
      for (const url of ['memory://', path.join(work, 'migrated')]) {
        const database = await open(url, migrations);
        try {
          const { rows } = await sql<{ count: number }>`select count(*)::int as count from "0001_once_t"`.execute(
            database.kysely,
          );
          expect(rows[0]!.count).toBe(0);
          expect(await database.migrate(migrations)).toEqual({ applied: [], skipped: ['0001_once'] });
        } finally {
          await database.close();
        }
      }
      expect(runs.count).toBe(1);
    }, 60_000);

    it('never takes a template made by other migrations (another name, another source, another schema)', async () => {
      const runs = { count: 0 };
      await (await open('memory://', counted('0001_first', runs))).close();
      await (await open('memory://', counted('0001_second', runs))).close();
      const changed: Migration[] = [
        {
          name: '0001_first',
          async up(db) {
            runs.count++;
            await sql`create table "0001_first_t" (n int, m int)`.execute(db);
          },
        },
      ];
      const database = await open('memory://', changed);
      const columns = await sql<{ name: string }>`select column_name as name from information_schema.columns
        where table_name = '0001_first_t' order by 1`.execute(database.kysely);
      expect(columns.rows.map((row) => row.name)).toEqual(['m', 'n']);
      await database.close();
      await (await open('memory://', counted('0001_first', runs), 'other')).close();
      expect(runs.count).toBe(4);
    }, 60_000);

    it('rejects with the failing migration named and keeps no template of it', async () => {
      const before = await migratedFiles();
      const failing: Migration[] = [
        ...counted('0001_fine', { count: 0 }),
        {
          name: '0002_broken',
          async up(db) {
            await sql`create table broken (n no_such_type)`.execute(db);
          },
        },
      ];
      const error = await open('memory://', failing).then(
        () => undefined,
        (caught: unknown) => caught as { code?: string; message: string },
      );
      expect(error?.message).toMatch(/0002_broken/);
      expect(error?.code).toBe('INTERNAL');
      expect(await migratedFiles()).toEqual(before);
    }, 60_000);

    it('keeps the newest four on disk', async () => {
      const runs = { count: 0 };
      for (let index = 0; index < 6; index++)
        await (await open('memory://', counted(`0001_keep_${index}`, runs))).close();
      const kept = await migratedFiles();
      expect(kept).toHaveLength(4);
      forgetPgliteTemplates();
      // The newest is kept (its migrations are not run again); the oldest is gone (they are).
      await (await open('memory://', counted('0001_keep_5', runs))).close();
      expect(runs.count).toBe(6);
      await (await open('memory://', counted('0001_keep_0', runs))).close();
      expect(runs.count).toBe(7);
    }, 120_000);

    it('runs the migrations again over a damaged migrated template, and keeps a whole one', async () => {
      const runs = { count: 0 };
      const migrations = counted('0001_damaged', runs);
      await (await open('memory://', migrations)).close();
      const newest = await newestMigrated();
      await writeFile(newest, 'not a tarball');
      forgetPgliteTemplates();
      await (await open('memory://', migrations)).close();
      expect(runs.count).toBe(2);
      expect(isDataDirectoryTarball(await readFile(newest))).toBe(true);
    }, 60_000);

    async function newestMigrated(): Promise<string> {
      const files = await migratedFiles();
      const dated = await Promise.all(
        files.map(async (name) => ({ name, made: (await stat(path.join(templates, name))).mtimeMs })),
      );
      dated.sort((a, b) => b.made - a.made);
      return path.join(templates, dated[0]!.name);
    }
  });
});
