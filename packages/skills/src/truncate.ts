/** The marker appended to a cut result; `{n}` is the number of characters dropped. */
export const TRUNCATION_MARKER = '\n…[truncated {n} characters]';

/**
 * Cuts `text` to at most `maxChars` characters (marker included) and says how much was dropped.
 * Never splits a UTF-16 surrogate pair.
 */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let keep = Math.max(0, maxChars - TRUNCATION_MARKER.length - 8);
  const code = text.charCodeAt(keep - 1);
  if (keep > 0 && code >= 0xd800 && code <= 0xdbff) keep--;
  return `${text.slice(0, keep)}${TRUNCATION_MARKER.replace('{n}', String(text.length - keep))}`;
}
