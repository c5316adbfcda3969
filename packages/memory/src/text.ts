/** Appended to a text cut to its limit, so a reader (and the model) knows something is missing. */
export function truncationMarker(removed: number): string {
  return ` …[truncated ${removed} chars]`;
}

/**
 * `text` cut to at most `maxLength` characters, the marker included. Text within the limit is
 * returned as is; nothing is ever dropped silently.
 */
export function truncateText(text: string, maxLength: number): { text: string; truncated: boolean } {
  if (text.length <= maxLength) return { text, truncated: false };
  // The marker's length depends on the count it prints: take it for the worst case.
  const room = Math.max(0, maxLength - truncationMarker(text.length).length);
  return { text: text.slice(0, room) + truncationMarker(text.length - room), truncated: true };
}

/** Lower case, punctuation folded to spaces, whitespace collapsed: for de-duplication. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
