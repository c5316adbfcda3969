import { AgentrixError } from '@agentrix/core';

export function closedError(operation: string): AgentrixError {
  return new AgentrixError('CLOSED', `Cannot ${operation}: this memory is closed. Create a new one to continue.`);
}
