/** Produces unique ids. Injected so tests can use predictable ones. */
export type IdGenerator = () => string;

/**
 * Node's `Buffer`, when there is one: core runs anywhere, and writes ids as below only where it
 * can turn bytes into a string in one call.
 */
const NodeBuffer = (globalThis as { Buffer?: { alloc(size: number, fill: string): Uint8Array } }).Buffer;
/** Random bytes for {@link randomId}, 128 ids' worth, refilled from the platform's CSPRNG. */
const POOL_BYTES = 16 * 128;
const pool = new Uint8Array(POOL_BYTES);
let pooled = POOL_BYTES;
/** The id being written: 36 ASCII bytes with its four dashes in place. */
const text = NodeBuffer?.alloc(36, '-') as
  | (Uint8Array & { toString(encoding: 'latin1', start: number, end: number): string })
  | undefined;
/** Where each of the 16 bytes' two hex digits go in {@link text}. */
const PLACES = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const HIGH = new Uint8Array(256);
const LOW = new Uint8Array(256);
for (let value = 0; value < 256; value++) {
  const hex = value.toString(16).padStart(2, '0');
  HIGH[value] = hex.charCodeAt(0);
  LOW[value] = hex.charCodeAt(1);
}

/**
 * Random UUIDs (v4, RFC 9562) from the platform's CSPRNG, as `crypto.randomUUID()` makes them.
 * On Node they are written as one string: Node 20's `randomUUID()` joins 20 pieces into its
 * string, about 630 bytes allocated and 170 ns an id, against about 160 bytes and 100 ns here; the
 * bus and the runtime make one or two a message (bench/bus/allocation.ts). Elsewhere:
 * `crypto.randomUUID()`.
 */
export const randomId: IdGenerator =
  text === undefined
    ? () => globalThis.crypto.randomUUID()
    : () => {
        if (pooled === POOL_BYTES) {
          globalThis.crypto.getRandomValues(pool);
          pooled = 0;
        }
        const at = pooled;
        pooled += 16;
        pool[at + 6] = (pool[at + 6]! & 0x0f) | 0x40; // version 4
        pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80; // variant 10
        for (let index = 0; index < 16; index++) {
          const value = pool[at + index]!;
          const place = PLACES[index]!;
          text[place] = HIGH[value]!;
          text[place + 1] = LOW[value]!;
        }
        return text.toString('latin1', 0, 36);
      };

/** `prefix-1`, `prefix-2`, ...: deterministic ids for tests and examples. */
export function createSequentialIds(prefix = 'id'): IdGenerator {
  let next = 0;
  return () => `${prefix}-${++next}`;
}
