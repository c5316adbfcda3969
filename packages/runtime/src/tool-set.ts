import type { Tool, ToolDefinition } from '@agentrix/core';

/** The tools one agent may call, with their model-facing definitions computed once. */
export interface ToolSet {
  readonly byName: ReadonlyMap<string, Tool<any, unknown>>;
  readonly definitions: readonly ToolDefinition[];
}

/**
 * Tools that live outside the manager and may come and go (MCP servers): a live `ToolSet` for an
 * allow-list of names, where an entry ending in `*` is a prefix. `SkillRegistry` from
 * `@agentrix/skills` implements it.
 */
export interface ToolSource {
  select(allow: readonly string[]): ToolSet;
}

/** A live union of two tool sets (`first` wins on a name in both); recomputed when either changes. */
export function composeToolSets(first: ToolSet, second: ToolSet): ToolSet {
  let seenFirst: ToolSet['byName'] | undefined;
  let seenSecond: ToolSet['byName'] | undefined;
  let byName: Map<string, Tool<any, unknown>> = new Map();
  let definitions: ToolDefinition[] = [];
  const refresh = () => {
    const a = first.byName;
    const b = second.byName;
    if (a === seenFirst && b === seenSecond) return;
    seenFirst = a;
    seenSecond = b;
    byName = new Map([...b, ...a]);
    const names = new Set(a.keys());
    definitions = [...first.definitions, ...second.definitions.filter((definition) => !names.has(definition.name))];
  };
  return {
    get byName() {
      refresh();
      return byName;
    },
    get definitions() {
      refresh();
      return definitions;
    },
  };
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
