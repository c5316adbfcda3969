import { AgentrixError, type ChatRequest } from '@agentrix/core';

/** A request of one user message. */
export const user = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

/** The `AgentrixError` a promise rejects with; anything else (or no failure) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<AgentrixError> {
  try {
    await promise;
  } catch (error) {
    if (AgentrixError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

/** How many of `results` were answered, and how many refused with `code`. */
export function outcomes(
  results: readonly PromiseSettledResult<unknown>[],
  code: string,
): { ok: number; refused: number } {
  let ok = 0;
  let refused = 0;
  for (const result of results) {
    if (result.status === 'fulfilled') ok++;
    else if (AgentrixError.isInstance(result.reason) && result.reason.code === code) refused++;
  }
  return { ok, refused };
}
