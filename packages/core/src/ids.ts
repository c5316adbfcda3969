/** Produces unique ids. Injected so tests can use predictable ones. */
export type IdGenerator = () => string;

/** Random UUIDs (v4) from the platform's crypto. */
export const randomId: IdGenerator = () => globalThis.crypto.randomUUID();

/** `prefix-1`, `prefix-2`, ...: deterministic ids for tests and examples. */
export function createSequentialIds(prefix = 'id'): IdGenerator {
  let next = 0;
  return () => `${prefix}-${++next}`;
}
