import { toNumber } from '@agentrix/core/implement';
import { type RawBuilder, sql } from 'kysely';

/** A JSON value as a `jsonb` parameter (both drivers would otherwise turn arrays into Postgres arrays). */
export function jsonb<T>(value: T): RawBuilder<T> {
  return sql<T>`${JSON.stringify(value)}::jsonb`;
}

/**
 * A `json` / `jsonb` value as read, typed; SQL null (or a column not selected) is `fallback`.
 * Nothing is parsed: `pg` and PGlite both return json and jsonb parsed (a stored top-level
 * string `"123"` comes back as the string `123`), so parsing strings again would fail on such a
 * value or change it into another.
 */
export function jsonColumn<T>(value: unknown): T | undefined;
export function jsonColumn<T>(value: unknown, fallback: T): T;
export function jsonColumn<T>(value: unknown, fallback?: T): T | undefined {
  return value === null || value === undefined ? fallback : (value as T);
}

export function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : toNumber(value);
}
