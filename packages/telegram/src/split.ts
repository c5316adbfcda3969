import { markdownToHtml } from './format.js';

/** Telegram's limit on one message's text, in UTF-16 code units (`sendMessage`, `editMessageText`). */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

/**
 * Splits a Markdown answer into parts whose rendered HTML fits in one message each (rendered
 * length is an upper bound of what Telegram counts, so a part is never refused as too long).
 * It cuts between lines where it can, then between words, then anywhere (never inside a
 * surrogate pair). A code block cut in two is closed at the end of one part and opened again at
 * the start of the next.
 */
export function splitMessage(text: string, limit = TELEGRAM_MESSAGE_LIMIT): string[] {
  const fits = (part: string) => markdownToHtml(part).length <= limit;
  if (fits(text)) return [text];
  const parts: string[] = [];
  let current = ''; // the part being built (starting with the reopened fence when inside a code block)
  let open: string | undefined; // the opening line of the code block `current` ends inside
  const close = (part: string, fence: string | undefined) => (fence === undefined ? part : `${part}\n\`\`\``);
  const emit = () => {
    // A part of blank lines only would be refused ("message text is empty").
    if (current.trim() !== '' && current !== open) parts.push(close(current, open));
    current = open ?? '';
  };
  for (const line of text.split('\n')) {
    const nextOpen = line.startsWith('```') ? (open === undefined ? line : undefined) : open;
    if (fits(close(joinLine(current, line), nextOpen))) {
      current = joinLine(current, line);
      open = nextOpen;
      continue;
    }
    emit();
    if (fits(close(joinLine(current, line), nextOpen))) {
      current = joinLine(current, line);
      open = nextOpen;
      continue;
    }
    // One line longer than a message: cut it into pieces that fit.
    for (const piece of cutLine(line, current, (candidate) => fits(close(candidate, open)))) {
      current = joinLine(current, piece);
      emit();
    }
    open = nextOpen;
    current = open ?? '';
  }
  emit();
  return parts;
}

function joinLine(prefix: string, line: string): string {
  return prefix === '' ? line : `${prefix}\n${line}`;
}

function cutLine(line: string, prefix: string, fits: (candidate: string) => boolean): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest !== '') {
    let end = largestFitting(rest, (length) => fits(joinLine(prefix, rest.slice(0, length))));
    const space = rest.lastIndexOf(' ', end);
    if (end < rest.length && space > end / 2) end = space + 1;
    const code = rest.charCodeAt(end - 1);
    if (end < rest.length && end > 1 && code >= 0xd800 && code <= 0xdbff) end -= 1; // keep a surrogate pair whole
    pieces.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  return pieces;
}

/** The largest `length` in [1, text.length] for which `fits(length)` holds (at least 1). */
function largestFitting(text: string, fits: (length: number) => boolean): number {
  let low = 1;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}
