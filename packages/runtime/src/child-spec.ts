// The spec of a child an agent spawns: the parent's model, tier and scope, and only its tools.
import { AgentrixError, type AgentSpec, type AgentSpecInput } from '@agentrix/core';
import { matchesToolPattern } from '@agentrix/skills';

/** What an agent asks for when it spawns a child (the `spawn_agent` skill). */
export interface SpawnChildRequest {
  parentId: string;
  instructions: string;
  tools?: readonly string[];
  name?: string;
  role?: string;
  task?: string;
}

/** The child's spec input; INVALID_ARGUMENT when it asks for a tool its parent does not have. */
export function childSpec(parent: AgentSpec, request: SpawnChildRequest): AgentSpecInput {
  const tools = [...(request.tools ?? [])];
  const refused = tools.filter((tool) => !matchesToolPattern(parent.tools, tool));
  if (refused.length > 0) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `A child may only use tools its parent has; "${parent.id}" does not have: ${refused.join(', ')}`,
      { agentId: parent.id },
    );
  }
  return {
    parentId: parent.id,
    instructions: request.instructions,
    tools,
    model: parent.model,
    ...(parent.tier !== undefined ? { tier: parent.tier } : {}),
    ...(parent.scope !== undefined ? { scope: parent.scope } : {}),
    ...(request.name !== undefined ? { name: request.name } : {}),
    ...(request.role !== undefined ? { role: request.role } : {}),
  };
}
