import { AgentrixError } from '@agentrix/core';

export function invalidArgument(message: string, cause?: unknown): AgentrixError {
  return new AgentrixError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });
}

export function closedError(operation: string): AgentrixError {
  return new AgentrixError('CLOSED', `Cannot ${operation}: this memory is closed. Create a new one to continue.`);
}
