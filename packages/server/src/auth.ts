import { createHash, timingSafeEqual } from 'node:crypto';
import { AgentrixError } from '@agentrix/core';
import type { Scope, ServerToken } from './server-options.js';

const RANK: Record<Scope, number> = { read: 0, operate: 1, admin: 2 };
const MIN_TOKEN_LENGTH = 16;

/** Who made a request: the scope of the token that matched, and its name. */
export interface Principal {
  scope: Scope;
  name: string | undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Checks bearer tokens in constant time: the presented token is hashed and its digest compared
 * with every configured token's digest with `timingSafeEqual` (same length whatever was sent),
 * and every token is compared, so the time says nothing about which, or how much, matched.
 */
interface StoredToken {
  digest: Buffer;
  scope: Scope;
  name: string | undefined;
}

export class TokenCheck {
  readonly #tokens: StoredToken[];

  constructor(tokens: readonly ServerToken[] = []) {
    this.#tokens = tokens.map((entry, index) => {
      if (typeof entry?.token !== 'string' || entry.token.length < MIN_TOKEN_LENGTH) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          `Server token ${index} must be a string of at least ${MIN_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
        );
      }
      if (!(entry.scope in RANK)) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          `Server token ${index} has scope ${JSON.stringify(entry.scope)}; expected read, operate or admin`,
        );
      }
      return { digest: digest(entry.token), scope: entry.scope, name: entry.name };
    });
  }

  /** True when tokens are configured (then every API request needs one). */
  get enabled(): boolean {
    return this.#tokens.length > 0;
  }

  /** The principal of a request, or UNAUTHORIZED / FORBIDDEN. With no tokens configured, everyone is admin. */
  authorize(presented: string | undefined, needed: Scope): Principal {
    if (!this.enabled) return { scope: 'admin', name: undefined };
    if (presented === undefined || presented === '') {
      throw new AgentrixError('UNAUTHORIZED', 'This API needs a bearer token: send `Authorization: Bearer <token>`');
    }
    const presentedDigest = digest(presented);
    let match: StoredToken | undefined;
    for (const token of this.#tokens) {
      if (timingSafeEqual(presentedDigest, token.digest) && match === undefined) match = token;
    }
    if (!match) throw new AgentrixError('UNAUTHORIZED', 'The bearer token is not valid');
    if (RANK[match.scope] < RANK[needed]) {
      throw new AgentrixError('FORBIDDEN', `This request needs the "${needed}" scope; the token has "${match.scope}"`, {
        details: { needed, scope: match.scope },
      });
    }
    return { scope: match.scope, name: match.name };
  }
}

/** The token of an `Authorization: Bearer <token>` header (case-insensitive scheme). */
export function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}
