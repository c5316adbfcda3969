/**
 * The log line of an agent's lasting state change (not the idle/running flips of each turn): its
 * level says whether the host must act (error), the agent resumes by itself (outage and budget
 * pauses), or it is news (the rest).
 */
import type { AgentState, Logger, SerializedError } from '@agentrix/core';
import type { PauseReason } from './turn-failure.js';

export function logStateChange(
  logger: Logger,
  agentId: string,
  from: AgentState,
  to: AgentState,
  reason: string | undefined,
  pause: PauseReason | undefined,
  lastError: SerializedError | undefined,
  budgetRefusals: number,
): void {
  const fields = {
    agentId,
    from,
    to,
    ...(reason === undefined ? {} : { reason }),
    ...(pause ? { pause: pause.kind, ...(pause.error ? { code: pause.error.code } : {}) } : {}),
    ...(to === 'error' && lastError ? { code: lastError.code, error: lastError } : {}),
  };
  if (to === 'error') logger.error(fields, 'agent failed: waiting for resume()');
  else if (pause?.kind === 'budget' && budgetRefusals > 1) logger.debug(fields, 'agent paused again');
  else if (pause && pause.kind !== 'host') logger.warn(fields, `agent paused (${pause.kind}): resumes by itself`);
  else logger.info(fields, `agent ${to}`);
}
