import type { Tool, ToolDefinition } from '@agentrix/core';

/** The tools one agent may call, with their model-facing definitions computed once. */
export interface ToolSet {
  readonly byName: ReadonlyMap<string, Tool<any, unknown>>;
  readonly definitions: readonly ToolDefinition[];
}

export const emptyToolSet: ToolSet = { byName: new Map(), definitions: [] };

export function createToolSet(tools: readonly Tool<any, unknown>[]): ToolSet {
  if (tools.length === 0) return emptyToolSet;
  const byName = new Map<string, Tool<any, unknown>>();
  for (const tool of tools) byName.set(tool.name, tool);
  const definitions = tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
  }));
  return { byName, definitions };
}
