import { createHash } from 'node:crypto';

const INVALID = /[^A-Za-z0-9_-]/g;
const MAX = 64;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);

/**
 * The model-facing name of an MCP tool: `<prefix>__<tool>`, with characters model APIs refuse
 * replaced by `_` and names over 64 characters cut and suffixed with a hash of the original, so
 * two long names stay apart.
 */
export function namespacedToolName(prefix: string, tool: string): string {
  const name = `${prefix}__${tool.replace(INVALID, '_')}`;
  if (name.length <= MAX) return name;
  const suffix = `_${shortHash(tool)}`;
  return `${name.slice(0, MAX - suffix.length)}${suffix}`;
}

/** `name` made unique against `taken` by a hash suffix of `seed` (then a counter). */
export function disambiguate(name: string, seed: string, taken: (candidate: string) => boolean): string {
  if (!taken(name)) return name;
  const suffix = `_${shortHash(seed)}`;
  const base = name.length + suffix.length <= MAX ? name : name.slice(0, MAX - suffix.length);
  let candidate = `${base}${suffix}`;
  for (let n = 2; taken(candidate); n++) {
    const counter = `${suffix}${n}`;
    candidate = `${name.slice(0, MAX - counter.length)}${counter}`;
  }
  return candidate;
}
