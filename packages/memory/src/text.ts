import { truncateText as cutText } from '@agentrix/core/implement';

/**
 * `text` cut to at most `maxLength` characters with core's marker, and whether it was cut (memory
 * records that on the fact or episode). Text within the limit is returned as is.
 */
export function truncateText(text: string, maxLength: number): { text: string; truncated: boolean } {
  const cut = cutText(text, maxLength);
  return { text: cut, truncated: cut !== text };
}

/** Lower case, punctuation folded to spaces, whitespace collapsed: for de-duplication. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** A capitalised word: a name when it is not a sentence's first ("Ana", "O'Neil", "Mary-Jo"). */
export const NAME = /^\p{Lu}[\p{Ll}'’-]+$/u;
