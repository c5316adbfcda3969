import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Smoke test of the real PostgreSQL that `scripts/with-services.mjs` provides (DATABASE_URL).
const url = process.env.DATABASE_URL;
const schema = `test_${randomUUID().replaceAll('-', '')}`;

describe('postgres service', () => {
  let pool: pg.Pool;

  beforeAll(() => {
    if (!url) {
      throw new Error('DATABASE_URL is not set: run the tests through `pnpm test` (scripts/with-services.mjs)');
    }
    pool = new pg.Pool({ connectionString: url, max: 4 });
  });

  afterAll(async () => {
    if (!pool) return;
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('is PostgreSQL 15 or newer', async () => {
    const { rows } = await pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
  });

  it('inserts with RETURNING and claims distinct rows with FOR UPDATE SKIP LOCKED', async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.jobs (id bigserial PRIMARY KEY, payload text NOT NULL, claimed_by text)`);
    const inserted = await pool.query<{ id: string; payload: string }>(
      `INSERT INTO ${schema}.jobs (payload) VALUES ('a'), ('b'), ('c') RETURNING id, payload`,
    );
    expect(inserted.rows.map((r) => r.payload)).toEqual(['a', 'b', 'c']);

    const claimSql = `SELECT id FROM ${schema}.jobs WHERE claimed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
    const w1 = await pool.connect();
    const w2 = await pool.connect();
    try {
      await w1.query('BEGIN');
      await w2.query('BEGIN');
      // Both transactions hold their row lock at the same time: each must get a different row.
      const [r1, r2] = await Promise.all([w1.query<{ id: string }>(claimSql), w2.query<{ id: string }>(claimSql)]);
      expect(r1.rows).toHaveLength(1);
      expect(r2.rows).toHaveLength(1);
      expect(r1.rows[0]!.id).not.toBe(r2.rows[0]!.id);
      await w1.query(`UPDATE ${schema}.jobs SET claimed_by = 'w1' WHERE id = $1`, [r1.rows[0]!.id]);
      await w2.query(`UPDATE ${schema}.jobs SET claimed_by = 'w2' WHERE id = $1`, [r2.rows[0]!.id]);
      await Promise.all([w1.query('COMMIT'), w2.query('COMMIT')]);
    } catch (err) {
      await Promise.allSettled([w1.query('ROLLBACK'), w2.query('ROLLBACK')]);
      throw err;
    } finally {
      w1.release();
      w2.release();
    }

    const { rows } = await pool.query<{ claimed_by: string | null }>(
      `SELECT claimed_by FROM ${schema}.jobs ORDER BY id`,
    );
    expect(rows.map((r) => r.claimed_by).sort()).toEqual(['w1', 'w2', null].sort());
  });
});
