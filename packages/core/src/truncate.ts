/** Appended to a text cut to its limit, so a reader (and the model) knows something is missing. */
export function truncationMarker(removed: number): string {
  return `\n…[truncated ${removed} characters]`;
}

/**
 * `text` cut to at most `maxChars` characters, the marker included; text within the limit is
 * returned as is. Never splits a UTF-16 surrogate pair, so the cut text is valid Unicode.
 */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // The marker's length depends on the count it prints: take it for the worst case.
  let keep = Math.max(0, maxChars - truncationMarker(text.length).length);
  const last = text.charCodeAt(keep - 1);
  if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep--;
  return text.slice(0, keep) + truncationMarker(text.length - keep);
}
