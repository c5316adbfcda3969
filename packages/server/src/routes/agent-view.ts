import type { CallScope } from '@agentrix/core';
import type { AgentInfo, Agentrix } from '@agentrix/runtime';

/** An agent as the API shows it: its snapshot plus the gateway budgets it is under. */
export async function agentView(agentrix: Agentrix, info: AgentInfo): Promise<Record<string, unknown>> {
  const budgets = agentrix.gateway ? await agentrix.gateway.budgetStatus(budgetScope(info)) : [];
  return {
    id: info.id,
    name: info.name,
    role: info.role,
    state: info.state,
    parentId: info.parentId,
    children: info.children,
    turns: info.turns,
    lastError: info.lastError,
    pause: info.pause,
    budgets,
    spec: info.spec,
  };
}

function budgetScope(info: AgentInfo): CallScope {
  const scope: CallScope = { agentId: info.id };
  const charge = info.spec.scope;
  if (charge?.userId !== undefined) scope.userId = charge.userId;
  if (charge?.workflowId !== undefined) scope.workflowId = charge.workflowId;
  if (charge?.tags !== undefined) scope.tags = charge.tags;
  return scope;
}
