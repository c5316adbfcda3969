import { type RawBuilder, sql } from 'kysely';

/** A JSON value as a `jsonb` parameter (both drivers would otherwise turn arrays into Postgres arrays). */
export function jsonb(value: unknown): RawBuilder<unknown> {
  return sql`${JSON.stringify(value)}::jsonb`;
}

/** Numbers from bigint columns: `pg` returns strings, PGlite numbers. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : toNumber(value);
}
