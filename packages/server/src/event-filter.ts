/** Which live events a subscriber wants: by agent (any of) and by name (exact, or `prefix.*`). */
export interface EventFilter {
  agents: ReadonlySet<string> | undefined;
  names: ReadonlySet<string> | undefined;
  prefixes: readonly string[] | undefined;
}

export const ALL_EVENTS: EventFilter = { agents: undefined, names: undefined, prefixes: undefined };

/** Builds a filter from `agent=a,b` and `kind=agent.state,turn.*` (comma lists; empty = all). */
export function parseFilter(agent: string | undefined, kind: string | undefined): EventFilter {
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean) ?? [];
  const agents = list(agent);
  const kinds = list(kind);
  const names = kinds.filter((name) => !name.endsWith('*'));
  const prefixes = kinds.filter((name) => name.endsWith('*')).map((name) => name.slice(0, -1));
  return {
    agents: agents.length > 0 ? new Set(agents) : undefined,
    names: names.length > 0 || prefixes.length > 0 ? new Set(names) : undefined,
    prefixes: prefixes.length > 0 ? prefixes : undefined,
  };
}

export function matchesFilter(filter: EventFilter, name: string, agents: readonly string[] | undefined): boolean {
  if (filter.names !== undefined && !filter.names.has(name)) {
    if (filter.prefixes === undefined || !filter.prefixes.some((prefix) => name.startsWith(prefix))) return false;
  }
  if (filter.agents !== undefined) {
    if (agents === undefined) return false;
    for (const agentId of agents) if (filter.agents.has(agentId)) return true;
    return false;
  }
  return true;
}

/** The agents an event payload names: `agentId`, `scope.agentId`, `request.agentId`, `envelope.to` / `from`, `inbox`. */
export function agentsOf(data: unknown): string[] | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  let out: string[] | undefined;
  const add = (value: unknown) => {
    if (typeof value !== 'string') return;
    out ??= [];
    if (!out.includes(value)) out.push(value);
  };
  add(record.agentId);
  add(record.inbox);
  for (const key of ['scope', 'request', 'envelope'] as const) {
    const inner = record[key];
    if (typeof inner !== 'object' || inner === null) continue;
    const value = inner as Record<string, unknown>;
    add(value.agentId);
    if (key === 'envelope') {
      add(value.to);
      add(value.from);
    }
  }
  return out;
}
