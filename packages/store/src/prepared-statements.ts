/**
 * Distinct statement texts a database prepares at most; past them a text runs as a plain
 * statement. Each holds its parse tree (and, once Postgres settles on one, its generic plan) in
 * every connection's memory for the connection's life; a caller's fixed-shape reads are a handful
 * of texts (a memory prepares ~5 per shape of scope), so this cap only stops texts that vary.
 */
const MAX_PREPARED = 100;

/**
 * The statement texts a database runs as named prepared statements (`Database.executePrepared`
 * registers one; the driver looks each text it runs up), with the name of each.
 */
export class PreparedStatements {
  readonly #names = new Map<string, string>();
  readonly #max: number;

  constructor(max = MAX_PREPARED) {
    this.#max = max;
  }

  /** Marks `text` as prepared (unless the cap is reached). */
  add(text: string): void {
    if (this.#names.has(text) || this.#names.size >= this.#max) return;
    this.#names.set(text, `agentrix_${this.#names.size + 1}`);
  }

  /** The name `text` is prepared under, or `undefined` when it runs as a plain statement. */
  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }
}

/**
 * Whether `error` says the session has no such prepared statement (SQLSTATE 26000,
 * `invalid_sql_statement_name`): `DISCARD ALL` or `DEALLOCATE` (a pooler's reset, a host's own
 * statement) dropped them, and the driver prepares them again.
 */
export function isStatementDropped(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '26000';
}
