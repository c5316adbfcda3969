import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { jsonb } from './json.js';
import { storeKysely } from './store-tables.js';

/** Compiles queries without a database: what matters here is the type check. */
const kysely = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('StoreTables', () => {
  it('types queries by the declared tables, and the shared builder names none', () => {
    const db = storeKysely(kysely);
    const query = db.selectFrom('agentrix_contexts').select('context').where('agent_id', '=', 'a').compile();
    expect(query.sql).toBe('select "context" from "agentrix_contexts" where "agent_id" = $1');
    // @ts-expect-error: a column agentrix_contexts does not have
    db.selectFrom('agentrix_contexts').select('contexts');
    // @ts-expect-error: a jsonb column takes jsonb(value), not a plain value (an array would become a Postgres array)
    db.insertInto('agentrix_ledger').values({ tags: ['a'] });
    db.updateTable('agentrix_ledger').set({ tags: jsonb(['a']) });
    // @ts-expect-error: `database.kysely` is shared by every package's tables, so it knows none
    kysely.selectFrom('agentrix_contexts');
  });
});
