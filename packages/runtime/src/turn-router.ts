import type { ToolSet } from './tool-set.js';
import { createToolSet, emptyToolSet } from './tool-set.js';

/**
 * Decides, before a turn's first model call, whether the turn needs tools and which ones.
 * `Router` from `@agentrix/skills` implements it (rules, then a small model, then a large one).
 */
export interface TurnRouter {
  route(
    input: { agentId: string; text: string; skills: ToolSet },
    options?: { signal?: AbortSignal },
  ): Promise<{ needsSkills: boolean; skills: readonly string[] }>;
}

/** The part of `tools` a router's decision offers, in the decision's order. */
export function narrowToolSet(tools: ToolSet, decision: { needsSkills: boolean; skills: readonly string[] }): ToolSet {
  if (!decision.needsSkills || decision.skills.length === 0) return emptyToolSet;
  const chosen = [];
  for (const name of decision.skills) {
    const tool = tools.byName.get(name);
    if (tool) chosen.push(tool);
  }
  return createToolSet(chosen);
}
