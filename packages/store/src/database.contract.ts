import { randomUUID } from 'node:crypto';
import { AgentrixError } from '@agentrix/core';
import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { jsonb, jsonColumn } from './json.js';
import type { Migration } from './migrations.js';
import { storeKysely } from './store-tables.js';
import { toVector, vectorColumnType, vectorSearch } from './vector.js';

export interface DatabaseContractOptions {
  /** The database under test, open and shared by the suite (tables are namespaced per test). */
  database: () => Database;
  /** Opens a second database on the same data (another process), when the engine allows it. */
  openAnother?: () => Promise<Database>;
  /** Whether pgvector is expected. */
  expectVector: boolean;
}

/** This suite's throwaway tables: each test creates its own, named by {@link table}. */
type ScratchTables = Record<string, { id: number; label: string | null; extra: string | null; doc: unknown }>;

function scratch(database: Database): Kysely<ScratchTables> {
  return database.kysely as Kysely<ScratchTables>;
}

/** A fresh table name per test. */
function table(prefix = 't'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

async function rejection(promise: Promise<unknown>): Promise<AgentrixError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(AgentrixError.isInstance(outcome), `expected an AgentrixError, got ${String(outcome)}`).toBe(true);
  return outcome as AgentrixError;
}

/**
 * What every {@link Database} must do, as one `describe` block: run it against PGlite and a
 * Postgres server.
 */
export function databaseContract(name: string, options: DatabaseContractOptions): void {
  describe(`Database contract: ${name}`, () => {
    const db = () => options.database();

    describe('migrations', () => {
      it('applies migrations in order, once, and records them', async () => {
        const name1 = table('m');
        const calls: string[] = [];
        const migrations: Migration[] = [
          {
            name: `${name1}_0001`,
            async up(trx) {
              calls.push('0001');
              await sql`create table ${sql.table(name1)} (id int primary key, label text)`.execute(trx);
            },
          },
          {
            name: `${name1}_0002`,
            async up(trx, database) {
              calls.push('0002');
              expect(database).toBe(db());
              await sql`alter table ${sql.table(name1)} add column extra jsonb`.execute(trx);
            },
          },
        ];
        const first = await db().migrate(migrations);
        expect(first).toEqual({ applied: [`${name1}_0001`, `${name1}_0002`], skipped: [] });
        const second = await db().migrate(migrations);
        expect(second).toEqual({ applied: [], skipped: [`${name1}_0001`, `${name1}_0002`] });
        expect(calls).toEqual(['0001', '0002']);
        const recorded = await storeKysely(db().kysely)
          .selectFrom('agentrix_migrations')
          .select('name')
          .where('name', 'like', `${name1}%`)
          .orderBy('name')
          .execute();
        expect(recorded.map((row) => row.name)).toEqual([`${name1}_0001`, `${name1}_0002`]);
        await scratch(db()).insertInto(name1).values({ id: 1, label: 'x', extra: '{"a":1}' }).execute();
      });

      it('rolls back a failing migration and reports it by name', async () => {
        const good = table('m');
        const bad = table('m');
        const error = await rejection(
          db().migrate([
            {
              name: `${good}_ok`,
              async up(trx) {
                await sql`create table ${sql.table(good)} (id int)`.execute(trx);
              },
            },
            {
              name: `${bad}_broken`,
              async up(trx) {
                await sql`create table ${sql.table(bad)} (id int)`.execute(trx);
                await sql`select * from no_such_table_anywhere`.execute(trx);
              },
            },
          ]),
        );
        expect(error.message).toContain(`${bad}_broken`);
        expect(error.message).toContain('rolled back');
        expect(error.details).toMatchObject({ migration: `${bad}_broken` });
        const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_name in (${good}, ${bad}) and table_schema = any(current_schemas(false))`.execute(db().kysely);
        expect(tables.rows.map((row) => row.name)).toEqual([good]);
        const recorded = await storeKysely(db().kysely)
          .selectFrom('agentrix_migrations')
          .select('name')
          .where('name', 'in', [`${good}_ok`, `${bad}_broken`])
          .execute();
        expect(recorded.map((row) => row.name)).toEqual([`${good}_ok`]);
      });

      it('rejects duplicate and malformed migrations before running any', async () => {
        const name1 = table('m');
        const up = async () => {};
        const duplicate = await rejection(
          db().migrate([
            { name: name1, up },
            { name: name1, up },
          ]),
        );
        expect(duplicate.code).toBe('INVALID_ARGUMENT');
        expect(duplicate.message).toContain(name1);
        expect((await rejection(db().migrate([{ name: '', up }]))).code).toBe('INVALID_ARGUMENT');
      });
    });

    describe('transactions', () => {
      it('commits and rolls back', async () => {
        const name1 = table();
        await sql`create table ${sql.table(name1)} (id int primary key)`.execute(db().kysely);
        await scratch(db())
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto(name1).values({ id: 1 }).execute();
          });
        await expect(
          scratch(db())
            .transaction()
            .execute(async (trx) => {
              await trx.insertInto(name1).values({ id: 2 }).execute();
              throw new Error('roll back');
            }),
        ).rejects.toThrow('roll back');
        const rows = await scratch(db()).selectFrom(name1).select('id').execute();
        expect(rows.map((row) => row.id)).toEqual([1]);
      });
    });

    describe('prepared statements', () => {
      /**
       * A statement tagged in a comment that reads, in its own session, the prepared statements of
       * its text: a named statement is listed (prepared before it runs, with the plans of its
       * executions so far, this one's included); an unnamed one, as a plain statement runs, is not.
       */
      const tagged = (tag: string, values: { ids: string[]; count: number; note: string | null; doc: unknown }) =>
        sql<{ ids: string[]; count: number; note: string | null; doc: unknown; prepared: number; plans: number }>`
          select /* ${sql.raw(tag)} */ ${values.ids}::text[] as ids, ${values.count}::int as count,
            ${values.note}::text as note, ${jsonb(values.doc)} as doc,
            (select count(*)::int from pg_prepared_statements where statement like ${`%${tag}%`}) as prepared,
            (select coalesce(sum(generic_plans + custom_plans), 0)::int from pg_prepared_statements
              where statement like ${`%${tag}%`}) as plans`.compile(db().kysely);

      it('runs a statement prepared once, bound to each call’s values, and other texts as plain statements', async () => {
        const tag = table('prepared');
        const calls = [
          { ids: ['a', 'b'], count: 1, note: null, doc: { nested: ['x', 1] } },
          { ids: [], count: 2, note: 'it’s "quoted"', doc: 'text' },
          { ids: ['{brace}', 'comma,', 'NULL'], count: 3, note: '', doc: null },
        ];
        const results = [];
        for (const values of calls) results.push((await db().executePrepared(tagged(tag, values))).rows[0]!);
        expect(results.map(({ ids, count, note, doc }) => ({ ids, count, note, doc }))).toEqual(calls);
        // One statement on the connection, executed three times (pg's pool hands the idle
        // connection last released back, so the three run on one).
        expect(results.map((row) => [row.prepared, row.plans])).toEqual([
          [1, 1],
          [1, 2],
          [1, 3],
        ]);
        const plain = await tagged(table('plain'), calls[0]!);
        expect((await db().kysely.executeQuery(plain)).rows[0]).toMatchObject({ prepared: 0, plans: 0 });
      });

      it('prepares again after DISCARD ALL dropped the statements of the session', async () => {
        const tag = table('discarded');
        const values = { ids: ['a'], count: 1, note: null, doc: null };
        expect((await db().executePrepared(tagged(tag, values))).rows[0]).toMatchObject({ prepared: 1, plans: 1 });
        // On a pool, the idle connection last released: the one that ran the statement.
        await db()
          .kysely.connection()
          .execute((connection) => sql`discard all`.execute(connection));
        expect((await db().executePrepared(tagged(tag, values))).rows[0]).toMatchObject({ prepared: 1, plans: 1 });
        expect((await db().executePrepared(tagged(tag, values))).rows[0]).toMatchObject({ prepared: 1, plans: 2 });
      });

      it('reports a statement that fails to parse or to run, and runs the next one', async () => {
        const broken = sql`select ${1}::int from no_such_table_prepared`.compile(db().kysely);
        for (let attempt = 0; attempt < 2; attempt++) {
          await expect(db().executePrepared(broken)).rejects.toThrow(/no_such_table_prepared/);
        }
        const tag = table('bad_value');
        const cast = sql<{ value: number }>`select /* ${sql.raw(tag)} */ ${'x'}::text::int as value`;
        await expect(db().executePrepared(cast.compile(db().kysely))).rejects.toThrow(/invalid input syntax/);
        const counted = (value: string) =>
          sql<{ value: number }>`select /* ${sql.raw(tag)} */ ${value}::text::int as value`.compile(db().kysely);
        expect((await db().executePrepared(counted('7'))).rows).toEqual([{ value: 7 }]);
        await expect(db().executePrepared(counted('y'))).rejects.toThrow(/invalid input syntax/);
        expect((await db().executePrepared(counted('8'))).rows).toEqual([{ value: 8 }]);
      });
    });

    describe('JSONB', () => {
      it('round-trips nested JSON, unicode and numbers', async () => {
        const name1 = table();
        await sql`create table ${sql.table(name1)} (id int primary key, doc jsonb not null)`.execute(db().kysely);
        const doc = {
          text: 'héllo 🌍 "quoted" \\ back',
          n: 1.5,
          big: 9_007_199_254_740_991,
          negative: -3,
          flag: false,
          nothing: null,
          list: [1, 'two', { three: [3] }],
          nested: { deep: { deeper: { deepest: 'yes' } } },
        };
        await sql`insert into ${sql.table(name1)} values (1, ${JSON.stringify(doc)}::jsonb)`.execute(db().kysely);
        const row = await scratch(db()).selectFrom(name1).select('doc').executeTakeFirstOrThrow();
        expect(row.doc).toEqual(doc);
        const field = await sql<{
          deepest: string;
        }>`select doc->'nested'->'deep'->'deeper'->>'deepest' as deepest from ${sql.table(name1)}`.execute(db().kysely);
        expect(field.rows[0]?.deepest).toBe('yes');
      });

      it('reads back what jsonb wrote through jsonColumn, top-level strings included', async () => {
        const name1 = table();
        await sql`create table ${sql.table(name1)} (id int primary key, doc jsonb)`.execute(db().kysely);
        // "123" and "[1]" are JSON strings: parsing them again (the old string-or-object branch)
        // would make them a number and an array.
        const docs: unknown[] = ['123', '[1]', 'plain', [1, 'two'], { a: { b: null } }, 0, false];
        await scratch(db())
          .insertInto(name1)
          .values(docs.map((doc, id) => ({ id, doc: jsonb(doc) })))
          .execute();
        await sql`insert into ${sql.table(name1)} values (${docs.length}, null)`.execute(db().kysely);
        const rows = await scratch(db()).selectFrom(name1).select('doc').orderBy('id').execute();
        expect(rows.map((row) => jsonColumn(row.doc, 'absent'))).toEqual([...docs, 'absent']);
        expect(jsonColumn(rows.at(-1)?.doc)).toBeUndefined();
      });
    });

    describe('concurrent claims', () => {
      it('gives each row to exactly one of several claimers with FOR UPDATE SKIP LOCKED', async () => {
        const name1 = table();
        await sql`create table ${sql.table(name1)} (id int primary key, claimed_by text)`.execute(db().kysely);
        const total = 60;
        await sql`insert into ${sql.table(name1)} (id) select generate_series(1, ${total})`.execute(db().kysely);
        const claimed = new Map<string, number[]>();
        const claimer = async (worker: string) => {
          const mine: number[] = [];
          claimed.set(worker, mine);
          for (;;) {
            const rows = await db()
              .kysely.transaction()
              .execute(async (trx) => {
                const picked = await sql<{ id: number }>`select id from ${sql.table(name1)}
                  where claimed_by is null order by id limit 3 for update skip locked`.execute(trx);
                const ids = picked.rows.map((row) => row.id);
                if (ids.length === 0) return [];
                await sql`update ${sql.table(name1)} set claimed_by = ${worker} where id = any(${`{${ids.join(',')}}`}::int[])`.execute(
                  trx,
                );
                return ids;
              });
            if (rows.length === 0) return;
            mine.push(...rows);
          }
        };
        await Promise.all(['w1', 'w2', 'w3', 'w4'].map(claimer));
        const all = [...claimed.values()].flat();
        expect(all).toHaveLength(total);
        expect(new Set(all).size).toBe(total);
        const counts = await sql<{
          n: unknown;
        }>`select count(*) as n from ${sql.table(name1)} where claimed_by is null`.execute(db().kysely);
        expect(Number(counts.rows[0]?.n)).toBe(0);
      });
    });

    describe('vector search', () => {
      it(`reports pgvector support (${options.expectVector ? 'available' : 'fallback'})`, () => {
        expect(db().hasVector).toBe(options.expectVector);
      });

      const variants: [string, () => Database][] = [
        ['the engine default', db],
        [
          'the brute-force fallback',
          () => Object.create(db(), { hasVector: { value: false, enumerable: true } }) as Database,
        ],
      ];
      for (const [label, pick] of variants) {
        it(`finds the nearest rows by cosine distance with ${label}`, async () => {
          const database = pick();
          const name1 = table('v');
          await sql`create table ${sql.table(name1)} (
            id text primary key, agent text not null, embedding ${vectorColumnType(database, 3)}
          )`.execute(database.kysely);
          const rows: [string, string, number[]][] = [
            ['x', 'a', [1, 0, 0]],
            ['xy', 'a', [1, 1, 0]],
            ['y', 'a', [0, 1, 0]],
            ['minus-x', 'a', [-1, 0, 0]],
            ['other-agent', 'b', [1, 0, 0]],
            ['zero', 'a', [0, 0, 0]],
          ];
          for (const [id, agent, embedding] of rows) {
            await sql`insert into ${sql.table(name1)} values (${id}, ${agent}, ${toVector(database, embedding)})`.execute(
              database.kysely,
            );
          }
          const matches = await vectorSearch<{ id: string }>(database, {
            table: name1,
            column: 'embedding',
            embedding: [0.9, 0.1, 0],
            limit: 4,
            where: sql`t.agent = ${'a'}`,
            columns: ['id'],
          });
          expect(matches.map((match) => match.id)).toEqual(['x', 'xy', 'y', 'minus-x']);
          expect(matches[0]!.distance).toBeCloseTo(1 - 0.9 / Math.sqrt(0.82), 4);
          expect(matches[3]!.distance).toBeCloseTo(1 + 0.9 / Math.sqrt(0.82), 4);
          const [nearest] = await vectorSearch<{ id: string; agent: string }>(database, {
            table: name1,
            column: 'embedding',
            embedding: [0, 2, 0],
            limit: 1,
          });
          expect(nearest).toMatchObject({ id: 'y', agent: 'a', distance: expect.any(Number) });
          // The zero row has no direction: never a match, however many rows are asked for.
          const all = await vectorSearch<{ id: string }>(database, {
            table: name1,
            column: 'embedding',
            embedding: [0.9, 0.1, 0],
            limit: 10,
            where: sql`t.agent = ${'a'}`,
            columns: ['id'],
          });
          expect(all.map((match) => match.id)).toEqual(['x', 'xy', 'y', 'minus-x']);
          const zero = { table: name1, column: 'embedding', embedding: [0, 0, 0], limit: 10 };
          expect(await vectorSearch(database, zero)).toEqual([]);
          expect(await vectorSearch(database, { ...zero, exact: true })).toEqual([]);
        });
      }

      it('rejects an invalid embedding with INVALID_ARGUMENT', async () => {
        const error = await rejection(
          vectorSearch(db(), { table: 'whatever', column: 'embedding', embedding: [1, Number.NaN] }),
        );
        expect(error.code).toBe('INVALID_ARGUMENT');
      });
    });

    describe('notifications', () => {
      it('delivers a notification to listeners in this process, and stops after unlisten', async () => {
        const channel = table('ch');
        const received: string[] = [];
        const unlisten = await db().listen(channel, (payload) => received.push(payload));
        await db().notify(channel, 'one');
        db().notifyLocal(channel, 'two');
        await unlisten();
        await db().notify(channel, 'three');
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(received).toEqual(['one', 'two']);
      });

      if (options.openAnother) {
        it('delivers a notification to another process through LISTEN/NOTIFY', async () => {
          const other = await options.openAnother!();
          const channel = table('ch');
          const received = new Promise<string>((resolve) => {
            void other.listen(channel, resolve).then(() => db().notify(channel, 'across'));
          });
          expect(await received).toBe('across');
        });
      }
    });

    describe('errors', () => {
      it('wraps SQL errors in an AgentrixError only at the store boundary (kysely errors pass through)', async () => {
        await expect(sql`select * from no_such_table_here`.execute(db().kysely)).rejects.toThrow(/no_such_table_here/);
      });
    });
  });
}
