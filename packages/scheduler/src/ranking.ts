import type { AgentProfile, JobConditions, RankWeights } from './dispatch-types.js';

/** True when the agent meets every condition of the job. */
export function matches(profile: AgentProfile, conditions: JobConditions): boolean {
  if (profile.skillLevel < conditions.minSkillLevel) return false;
  if (conditions.category !== undefined && !profile.categories.includes(conditions.category)) return false;
  return conditions.tags.every((tag) => profile.tags.includes(tag));
}

export interface RankedAgent {
  profile: AgentProfile;
  score: number;
}

/**
 * The weighted score of an agent: `reputation * w.reputation + successRate * w.successRate +
 * speed * w.speed`, where speed is `1 / (1 + averageMs / speedScaleMs)` (0.5 when unknown).
 */
export function scoreAgent(profile: AgentProfile, weights: RankWeights = {}, speedScaleMs = 60_000): number {
  const speed = profile.averageMs === undefined ? 0.5 : 1 / (1 + profile.averageMs / speedScaleMs);
  return (
    profile.reputation * (weights.reputation ?? 0.5) +
    profile.successRate * (weights.successRate ?? 0.4) +
    speed * (weights.speed ?? 0.1)
  );
}

/** Matching agents, best first (ties by agent id), at most `limit`. */
export function rankAgents(
  profiles: readonly AgentProfile[],
  conditions: JobConditions,
  options: { weights?: RankWeights; limit?: number; speedScaleMs?: number } = {},
): RankedAgent[] {
  return profiles
    .filter((profile) => matches(profile, conditions))
    .map((profile) => ({ profile, score: scoreAgent(profile, options.weights, options.speedScaleMs) }))
    .sort((a, b) => b.score - a.score || (a.profile.agentId < b.profile.agentId ? -1 : 1))
    .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
}
