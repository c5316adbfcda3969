/** A number from a bigint or numeric SQL column: `pg` returns those as strings, PGlite as numbers. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
