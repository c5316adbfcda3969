import type { DeadLetter, MessageEnvelope, SerializedError } from '@agentrix/core';

/** Stream entry ids look like `1718000000000-0`. Anything else cannot be a delivery id of this bus. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

export function isEntryId(value: unknown): value is string {
  return typeof value === 'string' && ENTRY_ID.test(value);
}

/** A bulk string of a reply taken as buffers (see `ReplyForm`), or already a string: as a string (UTF-8). */
export function replyText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * Whether a bulk string of a reply (a buffer, or already a string) is `text`, without making a
 * string of it when `text` is ASCII (key names, field names).
 */
export function isReplyText(value: unknown, text: string): boolean {
  if (typeof value === 'string') return value === text;
  if (!Buffer.isBuffer(value)) return false;
  if (value.length !== text.length) return value.toString() === text;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code > 127 || value[index] !== code) return value.toString() === text;
  }
  return true;
}

/**
 * The envelope stored in a stream entry, or `undefined` when the entry was written by something
 * else (not JSON, or missing the fields every envelope has). A cheap shape check instead of the
 * full schema: envelopes in the stream were validated by `send`.
 */
export function parseEnvelope(json: string): MessageEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const envelope = value as Record<string, unknown>;
  if (
    typeof envelope.id !== 'string' ||
    typeof envelope.from !== 'string' ||
    typeof envelope.to !== 'string' ||
    typeof envelope.type !== 'string' ||
    typeof envelope.content !== 'string' ||
    typeof envelope.createdAt !== 'number'
  ) {
    return undefined;
  }
  return value as MessageEnvelope;
}

export function parseError(json: string | undefined): SerializedError | undefined {
  if (json === undefined || json === '') return undefined;
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as SerializedError).message === 'string') {
      return value as SerializedError;
    }
  } catch {
    // fall through
  }
  return { name: 'Error', message: json };
}

/** The error kept with an entry that is not a message of this bus. */
export function malformedEntryError(detail: string): SerializedError {
  return {
    name: 'AgentrixError',
    code: 'INVALID_MESSAGE',
    message: `Malformed stream entry: ${detail}. Only RedisStreamsBus.send should write to inbox streams.`,
  };
}

/** The recorded errors (JSON) of the two kinds of malformed entries. */
export const NO_ENVELOPE_ERROR = JSON.stringify(malformedEntryError('no "envelope" field'));
export const NOT_AN_ENVELOPE_ERROR = JSON.stringify(
  malformedEntryError('its "envelope" field is not a JSON message envelope'),
);

/**
 * A stand-in envelope for a dead letter whose entry was not a message (so there is no envelope):
 * `type` is `malformed` and `content` holds the entry's raw fields as JSON.
 */
export function malformedEnvelope(inbox: string, entryId: string, raw: string, at: number): MessageEnvelope {
  return { id: entryId, from: 'unknown', to: inbox, type: 'malformed', content: raw, createdAt: at };
}

/** A dead letter from the fields of a dead-letter stream entry. */
export function toDeadLetter(inbox: string, deadEntryId: string, fields: readonly string[]): DeadLetter {
  const map = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) map.set(fields[index]!, fields[index + 1]!);
  const deadAt = Number(map.get('deadAt') ?? Number.parseInt(deadEntryId, 10));
  const entryId = map.get('entry') ?? deadEntryId;
  const envelopeJson = map.get('envelope');
  const envelope =
    (envelopeJson === undefined ? undefined : parseEnvelope(envelopeJson)) ??
    malformedEnvelope(inbox, entryId, envelopeJson ?? map.get('raw') ?? '[]', deadAt);
  const letter: DeadLetter = { inbox, envelope, attempts: Number(map.get('attempts') ?? 0), deadAt };
  const error = parseError(map.get('error'));
  if (error !== undefined) letter.error = error;
  return letter;
}
