import { AgentrixError, redactError, redactText } from '@agentrix/core';

/** What the Bot API answers when a call fails (grammY's `GrammyError` has these fields). */
interface BotApiFailure {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

function isBotApiFailure(value: unknown): value is BotApiFailure {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BotApiFailure).error_code === 'number' &&
    typeof (value as BotApiFailure).description === 'string'
  );
}

/**
 * A failed Bot API call as a redacted AgentrixError: the token is removed from the message and
 * the whole cause chain (grammY's network errors carry the request URL, and the URL carries the
 * token). 401/404 from `getMe` mean the token was refused (`AUTH_FAILED`), 429 is `RATE_LIMITED`
 * with `retryAfterMs`, 5xx and network faults are retryable `CHANNEL_ERROR`s, other 4xx are not.
 */
export function telegramError(error: unknown, method: string, token: string): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const secrets = [token];
  const cause = redactError(error, secrets);
  if (isBotApiFailure(error)) {
    const { error_code: status, description } = error;
    const text = redactText(description, secrets);
    if ((status === 401 || status === 404) && method === 'getMe') {
      return new AgentrixError(
        'AUTH_FAILED',
        `Telegram refused the bot token (${status} ${text}): check the token @BotFather gave you (TELEGRAM_BOT_TOKEN)`,
        { cause, details: { method, status } },
      );
    }
    if (status === 429) {
      const retryAfterMs = (error.parameters?.retry_after ?? 1) * 1000;
      return new AgentrixError('RATE_LIMITED', `Telegram rate limit on ${method}: retry after ${retryAfterMs} ms`, {
        cause,
        retryAfterMs,
        details: { method, status },
      });
    }
    return new AgentrixError('CHANNEL_ERROR', `Telegram refused ${method} (${status} ${text})`, {
      cause,
      retryable: status >= 500,
      details: { method, status, description: text },
    });
  }
  // grammY's HttpError keeps the network failure (whose message names the URL, token included) in `error`.
  const inner = (error as { error?: unknown } | null)?.error;
  const message = [error, inner]
    .filter((part) => part !== undefined)
    .map((part) => (part instanceof Error ? part.message : String(part)))
    .join(': ');
  return new AgentrixError(
    'CHANNEL_ERROR',
    `Telegram call ${method} failed: ${redactText(message, secrets)} (is the Bot API reachable?)`,
    { cause, retryable: true, details: { method } },
  );
}

/** The Bot API status of a failure made by {@link telegramError}, if it had one. */
export function statusOf(error: unknown): number | undefined {
  if (!AgentrixError.isInstance(error)) return undefined;
  const status = error.details?.status;
  return typeof status === 'number' ? status : undefined;
}
