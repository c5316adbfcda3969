import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { schedulerKysely } from './scheduler-tables.js';

// Queries compiled without a database (kysely's DummyDriver): what the types let through.
const db = schedulerKysely({
  kysely: new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
});

describe('the scheduler tables as kysely types', () => {
  it('names the columns migrations.ts creates; any other name fails the type check', () => {
    const query = db.selectFrom('agentrix_jobs').select(['run_at', 'lease_until']).where('status', '=', 'pending');
    expect(query.compile().sql).toBe('select "run_at", "lease_until" from "agentrix_jobs" where "status" = $1');
    // @ts-expect-error a renamed column is a type error
    db.selectFrom('agentrix_jobs').select('runAt');
    // @ts-expect-error so is a status the dispatcher does not spell
    db.updateTable('agentrix_dispatch_jobs').set({ status: 'IN_PROGRESS' });
    // @ts-expect-error and a table no migration creates
    db.selectFrom('agentrix_job').selectAll();
  });
});
