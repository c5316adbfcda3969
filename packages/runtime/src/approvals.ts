/** A pending request to run a skill that needs a human's approval. */
export interface PendingApproval {
  id: string;
  agentId: string;
  /** The skill (tool) name. */
  skill: string;
  /** The validated input the skill will get when approved. */
  input: unknown;
}

/**
 * Where approval requests wait. `ApprovalGate` from `@agentrix/skills` (the `approvals` of a
 * `SkillExecutor`) implements it; the manager exposes it to the host.
 */
export interface Approvals {
  pending(agentId?: string): PendingApproval[];
  approve(id: string, options?: { by?: string }): void;
  reject(id: string, reason?: string, options?: { by?: string }): void;
}
