import type { PGlite, Results } from '@electric-sql/pglite';
import { isStatementDropped, type PreparedStatements } from './prepared-statements.js';

type PgliteModule = typeof import('@electric-sql/pglite');
type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];

/** What a named statement's first use learnt: its parameters' types and the rows' description. */
interface Described {
  parameterTypes: number[];
  rowDescription: BackendMessage | undefined;
}

/**
 * The PGlite client kysely's PGlite dialect is given: `query` runs a text registered in
 * `statements` as a named prepared statement through the extended protocol, any other text as
 * PGlite's `query` does (parse, describe, bind, describe, execute and sync, each its own call
 * into the WebAssembly: PGlite keeps no statement between calls).
 *
 * A named statement is parsed and described once (one call); each use after is one call of bind,
 * execute and sync, with the description kept from the first. Postgres plans its first five
 * executions with their values, then keeps a generic plan when it costs no more. bench/memory,
 * one agent's 50,000 of 100,000 rows, the statements of 34 retrieves replayed (CPU a statement):
 * the search statistics 2.25 -> 0.86 ms, recent and replies 5.40 -> 4.53 ms.
 */
export class PglitePreparedClient {
  readonly #pglite: PGlite;
  readonly #protocol: PgliteModule['protocol'];
  readonly #parse: PgliteModule['parse'];
  readonly #statements: PreparedStatements;
  readonly #described = new Map<string, Described>();

  constructor(pglite: PGlite, module: Pick<PgliteModule, 'protocol' | 'parse'>, statements: PreparedStatements) {
    this.#pglite = pglite;
    this.#protocol = module.protocol;
    this.#parse = module.parse;
    this.#statements = statements;
  }

  query(text: string, parameters: readonly unknown[] = []): Promise<Results> {
    const name = this.#statements.nameOf(text);
    if (name === undefined) return this.#pglite.query(text, [...parameters]);
    // kysely's driver runs one statement at a time; the mutex is PGlite's own query lock.
    return this.#pglite.runExclusive(async () => {
      try {
        return await this.#execute(name, text, parameters);
      } catch (error) {
        // DISCARD ALL or DEALLOCATE dropped the session's statements: prepared again, once.
        if (!isStatementDropped(error)) throw error;
        this.#described.clear();
        return this.#execute(name, text, parameters);
      }
    });
  }

  close(): Promise<void> {
    return this.#pglite.close();
  }

  async #execute(name: string, text: string, parameters: readonly unknown[]): Promise<Results> {
    const { serialize } = this.#protocol;
    let described = this.#described.get(name);
    if (described === undefined) {
      // A statement that fails to parse is not created (the sync ends the failed exchange).
      const messages = await this.#pglite.execProtocolStream(
        concat([serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
        { syncToFs: false },
      );
      described = {
        parameterTypes: this.#parse.parseDescribeStatementResults(messages),
        rowDescription: messages.find((message) => message.name === 'rowDescription'),
      };
      this.#described.set(name, described);
    }
    const types = described.parameterTypes;
    // As PGlite's query serializes parameters: by the type the statement declares for each.
    const values = parameters.map((value, index) => {
      if (value === null || value === undefined) return null;
      const serializer = this.#pglite.serializers[types[index]!];
      return serializer ? serializer(value) : String(value);
    });
    // Flushed to the file system after, as PGlite's query does.
    const messages = await this.#pglite.execProtocolStream(
      concat([serialize.bind({ statement: name, values }), serialize.execute({}), serialize.sync()]),
    );
    // Execute sends no row description: the one the statement was described with goes first.
    const { rowDescription } = described;
    return this.#parse.parseResults(
      rowDescription ? [rowDescription, ...messages] : messages,
      this.#pglite.parsers,
    )[0]!;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
