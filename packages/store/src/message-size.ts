import { AgentrixError } from '@agentrix/core';

// The same rule as InMemoryBus (`@agentrix/bus` keeps it internal): content plus the JSON of data, in UTF-8 bytes.

/** UTF-8 length of a string without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Throws `MESSAGE_TOO_LARGE` over `limit` bytes, `INVALID_MESSAGE` when `data` is not JSON-serializable. */
export function checkMessageSize(content: string, data: unknown, limit: number, to: string): void {
  let json: string | undefined;
  if (data !== undefined) {
    try {
      json = JSON.stringify(data);
    } catch (error) {
      throw new AgentrixError(
        'INVALID_MESSAGE',
        `Invalid message: data must be JSON-serializable (${error instanceof Error ? error.message : String(error)}); send plain objects, arrays, strings, numbers, booleans or null`,
        { cause: error },
      );
    }
  }
  const upperBound = (content.length + (json === undefined ? 0 : json.length)) * 3;
  if (upperBound <= limit) return;
  const size = utf8Length(content) + (json === undefined ? 0 : utf8Length(json));
  if (size <= limit) return;
  throw new AgentrixError(
    'MESSAGE_TOO_LARGE',
    `Message to "${to}" is ${size} bytes (UTF-8 content plus JSON data), over the limit of ${limit} bytes (maxMessageBytes). ` +
      'Store large payloads elsewhere and send a reference (an id or URL), split the message, or raise maxMessageBytes.',
    { details: { size, limit, to } },
  );
}
