/**
 * Redaction: the one set of rules for keeping secrets out of messages, serialized errors, events,
 * logs, stored rows and tool results.
 *
 * Always removed (no configuration needed):
 * - URL credentials: `scheme://user:password@host` keeps the user and shows `***` for the password
 *   (`scheme://***@host` when there is no user). The password runs to the last `@` before the
 *   host, as drivers read it, so a password holding `@ / ? # %` is hidden whole.
 * - secret-looking parameters: `password=`, `pass=`, `pwd=`, `secret=`, `token=`, `api_key=`,
 *   `apikey=`, `access_token=`, `auth=` in query strings and libpq-style `key=value` strings.
 * - `Authorization` / `Proxy-Authorization` / `api-key` / `x-api-key` header values, `Bearer` tokens,
 *   OpenAI-shaped keys (`sk-...`), and values of JSON fields named like keys or passwords.
 *
 * Exact secrets a host registers (API keys that look like anything, tokens) are removed too
 * wherever a `secrets` list is given, in their raw and URL-encoded forms.
 */

/** What a removed secret is replaced with. */
export const REDACTED = '***';

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)@/gi;
const SECRET_PARAMETER =
  /(^|[?&;\s,{(])((?:password|passwd|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?token|auth)=)("[^"]*"|'[^']*'|[^&\s#"',;)}]*)/gi;
const HEADER_VALUE =
  /\b((?:proxy-)?authorization|x-api-key|api-key)(["']?\s*[:=]\s*["']?)((?:(?:bearer|basic|token)\s+)?[^\s"',;}]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const OPENAI_KEY = /\bsk-[A-Za-z0-9_-]{8,}/g;
const JSON_SECRET_FIELD =
  /("(?:api[_-]?key|apikey|authorization|password|passwd|secret|token|access[_-]?token|client[_-]?secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/**
 * Hides the credentials of a URL (see the module notes): `postgres://app:Se@cr/et@host/db` becomes
 * `postgres://app:***@host/db`. Text that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  return redactText(url);
}

/** Removes every secret the module notes list, and each of `secrets`, from `text`. */
export function redactText(text: string, secrets?: readonly (string | undefined)[]): string {
  if (typeof text !== 'string' || text === '') return text;
  let out = text;
  if (secrets !== undefined) out = removeExact(out, secrets);
  if (out.includes('://')) out = out.replace(URL_CREDENTIALS, replaceCredentials);
  if (out.includes('=')) out = out.replace(SECRET_PARAMETER, `$1$2${REDACTED}`);
  out = out.replace(HEADER_VALUE, `$1$2${REDACTED}`);
  out = out.replace(BEARER, `$1 ${REDACTED}`);
  out = out.replace(OPENAI_KEY, REDACTED);
  if (out.includes('"')) out = out.replace(JSON_SECRET_FIELD, `$1"${REDACTED}"`);
  return out;
}

function replaceCredentials(match: string, scheme: string, userInfo: string): string {
  // `file:///path/pkg@1.2.3/...` (a stack trace) has no credentials: an authority never starts with "/".
  if (userInfo.startsWith('/')) return match;
  // The user ends at the first ":"; everything after it, up to the last "@", is the password.
  const colon = userInfo.indexOf(':');
  if (colon < 0) return `${scheme}${REDACTED}@`;
  const user = userInfo.slice(0, colon);
  return `${scheme}${user.includes('/') ? REDACTED : user}:${REDACTED}@`;
}

function removeExact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < 4) continue;
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(REDACTED);
  }
  return out;
}

/** Redacts every string inside a JSON-like value (objects and arrays are copied; depth-limited). */
export function redactValue<T>(value: T, secrets?: readonly (string | undefined)[], depth = 0): T {
  if (typeof value === 'string') return redactText(value, secrets) as T;
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = redactValue(item, secrets, depth + 1);
  }
  return out as T;
}

/** Fields of a thrown error worth keeping on its redacted copy (never its request, headers or input). */
const KEPT_FIELDS = ['code', 'errno', 'syscall', 'status', 'statusCode', 'type', 'severity', 'routine'] as const;

/**
 * A copy of an error safe to keep, log and print: the same `name`, a redacted `message` and
 * `stack`, and only plain diagnostic fields (`code`, `errno`, `syscall`, `status`, ...). Whatever
 * else the original carried (a request with its headers, Node's `ERR_INVALID_URL.input`, a
 * response body) is dropped. The cause chain is copied the same way. Values that are not
 * errors become an Error with their redacted text.
 */
export function redactError(error: unknown, secrets?: readonly (string | undefined)[], depth = 0): Error {
  if (!(error instanceof Error)) {
    const copy = new Error(redactText(typeof error === 'string' ? error : safeString(error), secrets));
    copy.name = 'NonError';
    return copy;
  }
  const copy = new Error(redactText(error.message, secrets));
  copy.name = error.name;
  if (typeof error.stack === 'string') copy.stack = redactText(error.stack, secrets);
  const fields = error as unknown as Record<string, unknown>;
  for (const field of KEPT_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' || typeof value === 'number') {
      (copy as unknown as Record<string, unknown>)[field] =
        typeof value === 'string' ? redactText(value, secrets) : value;
    }
  }
  if (error.cause !== undefined && depth < 5) {
    Object.defineProperty(copy, 'cause', {
      value: isRedactedCopy(error.cause) ? error.cause : redactError(error.cause, secrets, depth + 1),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  REDACTED_COPIES.add(copy);
  return copy;
}

const REDACTED_COPIES = new WeakSet<object>();

/** True for an error made by {@link redactError} (nothing more to remove from it without a secret list). */
export function isRedactedCopy(value: unknown): boolean {
  return typeof value === 'object' && value !== null && REDACTED_COPIES.has(value);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable value]';
  }
}
