import { type QueryExecutorProvider, sql } from 'kysely';

/**
 * Rows written before the first ANALYZE, and the share of the table's rows at the last one that
 * makes another due: Postgres's autovacuum defaults (`autovacuum_analyze_threshold` 50,
 * `autovacuum_analyze_scale_factor` 0.1).
 */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;
/** The tables whose statistics the retrieval queries' plans depend on. */
const TABLES = ['memory_episodes', 'memory_facts'] as const;

/**
 * Keeps the planner's statistics of the memory tables up to date, as autovacuum would. PGlite has
 * no autovacuum (one process, no background workers): without statistics the planner guessed one
 * row per condition, and found a match's neighbouring turns through the `(agent_id, thread_id)`
 * index, reading the whole conversation for each match (EXPLAIN ANALYZE, 100 matches in a
 * conversation of 629 turns, PGlite: 1,177 ms; after ANALYZE, through the timeline index: 19 ms).
 * On a Postgres server autovacuum does the same; an extra ANALYZE there costs a sample read.
 */
export class TableStatistics {
  readonly #db: QueryExecutorProvider;
  /** Rows in the episodes table at the last ANALYZE (0 before any). */
  #analyzedRows = 0;
  #written = 0;
  #running: Promise<void> | undefined;

  constructor(db: QueryExecutorProvider) {
    this.#db = db;
  }

  /**
   * Analyzes the tables when more rows were written since their last ANALYZE than {@link wrote}
   * allows (rows written by SQL, by an older version, or by a process that stopped before its
   * ANALYZE was due): counts the rows up to that bound, no further.
   */
  async open(): Promise<void> {
    // No table yet: `migrate: false` and the host applies the migrations later.
    const table = await sql<{ reltuples: number }>`select reltuples::float8 as reltuples from pg_class
      where oid = to_regclass('memory_episodes')`.execute(this.#db);
    const reltuples = table.rows[0]?.reltuples;
    if (reltuples === undefined) return;
    this.#analyzedRows = Math.max(0, Number(reltuples));
    const bound = Math.floor(this.#analyzedRows + ANALYZE_THRESHOLD + ANALYZE_SCALE * this.#analyzedRows) + 1;
    const counted = await sql<{ rows: number }>`select count(*)::int as rows from (
        select 1 from memory_episodes limit ${bound}) bounded`.execute(this.#db);
    if (Number(counted.rows[0]?.rows ?? 0) >= bound) await this.analyze();
  }

  /**
   * Counts `rows` written; analyzes when enough rows changed since the last time. Never fails the
   * write that called it (its rows are stored; statistics only shape plans): a failed ANALYZE
   * leaves the count as it was, so the next write tries again.
   */
  async wrote(rows: number): Promise<void> {
    this.#written += rows;
    if (this.#written > ANALYZE_THRESHOLD + ANALYZE_SCALE * this.#analyzedRows) await this.analyze().catch(() => {});
  }

  /** One ANALYZE at a time: concurrent writers that cross the threshold wait for the same one. */
  analyze(): Promise<void> {
    this.#running ??= this.#analyze().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #analyze(): Promise<void> {
    const written = this.#written;
    await sql`analyze ${sql.join(TABLES.map((table) => sql.table(table)))}`.execute(this.#db);
    const result = await sql<{ reltuples: number }>`select reltuples::float8 as reltuples from pg_class
      where oid = 'memory_episodes'::regclass`.execute(this.#db);
    this.#analyzedRows = Math.max(0, Number(result.rows[0]?.reltuples ?? 0));
    this.#written -= written;
  }
}
