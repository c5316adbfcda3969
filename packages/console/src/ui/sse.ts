/// <reference lib="dom" />

/** One server-sent event as the server wrote it. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
  /** The reconnect delay the server asked for (`retry:`), when this message carried one. */
  retry: number | undefined;
}

/**
 * Parses a `text/event-stream` body (the WHATWG rules: `field: value` lines, a blank line ends
 * a message, `:` starts a comment, `data` lines join with `\n`). Read with fetch rather than
 * `EventSource` so the token goes in the Authorization header and a POST can stream.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let message = blank();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end = lineEnd(buffer, done);
      while (end) {
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end.length);
        if (line === '') {
          if (message.data !== undefined || message.retry !== undefined) yield finish(message);
          message = blank();
        } else if (!line.startsWith(':')) {
          field(message, line);
        }
        end = lineEnd(buffer, done);
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

interface Pending {
  id: string | undefined;
  event: string | undefined;
  data: string | undefined;
  retry: number | undefined;
}

function blank(): Pending {
  return { id: undefined, event: undefined, data: undefined, retry: undefined };
}

function finish(message: Pending): SseMessage {
  return { id: message.id, event: message.event ?? 'message', data: message.data ?? '', retry: message.retry };
}

function field(message: Pending, line: string): void {
  const colon = line.indexOf(':');
  const name = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? '' : line.slice(colon + 1);
  if (value.startsWith(' ')) value = value.slice(1);
  if (name === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
  else if (name === 'event') message.event = value;
  else if (name === 'id') message.id = value;
  else if (name === 'retry' && /^\d+$/.test(value)) message.retry = Number(value);
}

/** The first line break (`\r\n`, `\n` or `\r`) of `text`; a trailing `\r` waits for more text unless the stream ended. */
function lineEnd(text: string, ended: boolean): { index: number; length: number } | undefined {
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '\n') return { index, length: 1 };
    if (char === '\r') {
      if (index + 1 === text.length) return ended ? { index, length: 1 } : undefined;
      return { index, length: text[index + 1] === '\n' ? 2 : 1 };
    }
  }
  return undefined;
}
