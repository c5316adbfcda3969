/**
 * The tool allow-list syntax, decided in one place: an entry is a tool's exact name, or a prefix
 * ending in `*` (`'github__*'` allows every tool of the `github` MCP server, `'*'` allows all).
 * The registry's `select`, the router's picks, an agent's `tools` and a child agent's tools
 * all read lists this way.
 */

/** True for an entry that matches by prefix (ends in `*`) rather than by exact name. */
export function isToolPattern(entry: string): boolean {
  return entry.endsWith('*');
}

/** True when `name` is one of `patterns`, or starts with the prefix of one ending in `*`. */
export function matchesToolPattern(patterns: readonly string[], name: string): boolean {
  for (const pattern of patterns) {
    if (isToolPattern(pattern) ? name.startsWith(pattern.slice(0, -1)) : pattern === name) return true;
  }
  return false;
}
