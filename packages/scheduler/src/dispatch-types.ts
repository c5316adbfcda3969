import { z } from 'zod';

/** Lower case, like the job queue's statuses and the values stored in the tables. */
export const DISPATCH_JOB_STATUSES = [
  'open',
  'distributed',
  'in-progress',
  'completed',
  'cancelled',
  'expired',
] as const;
export type DispatchJobStatus = (typeof DISPATCH_JOB_STATUSES)[number];

export const DISTRIBUTION_STATUSES = ['assigned', 'working', 'completed', 'failed', 'cancelled', 'timeout'] as const;
export type DistributionStatus = (typeof DISTRIBUTION_STATUSES)[number];

/** What a job asks of the agents that may take it. Every given condition must hold. */
export const JobConditionsSchema = z.object({
  /** The agent must carry every one of these tags. */
  tags: z.array(z.string()).default([]),
  /** The agent must list this category. */
  category: z.string().optional(),
  /** The agent's skill level must be at least this. */
  minSkillLevel: z.number().default(0),
});
export type JobConditions = z.output<typeof JobConditionsSchema>;

/** A job offered to agents (from the API, the table, or a remote source). */
export const DispatchJobInputSchema = z.object({
  id: z.string().min(1).max(200),
  payload: z.unknown().optional(),
  conditions: JobConditionsSchema.default({ tags: [], minSkillLevel: 0 }),
  /** After this (epoch ms) the job expires instead of being run. */
  expiresAt: z.number().optional(),
});
export type DispatchJobInput = z.input<typeof DispatchJobInputSchema>;

export interface DispatchJob {
  id: string;
  payload: unknown;
  conditions: JobConditions;
  status: DispatchJobStatus;
  winner: string | undefined;
  result: unknown;
  error: string | undefined;
  expiresAt: number | undefined;
  createdAt: number;
  updatedAt: number;
}

export const AgentProfileInputSchema = z.object({
  agentId: z.string().min(1).max(128),
  tags: z.array(z.string()).default([]),
  categories: z.array(z.string()).default([]),
  skillLevel: z.number().default(0),
  /** 0..1. Default 0.5 (unknown). */
  reputation: z.number().min(0).max(1).default(0.5),
});
export type AgentProfileInput = z.input<typeof AgentProfileInputSchema>;

export interface AgentProfile {
  agentId: string;
  tags: string[];
  categories: string[];
  skillLevel: number;
  reputation: number;
  successes: number;
  failures: number;
  /** successes / (successes + failures); 0.5 before any run. */
  successRate: number;
  /** Mean duration of successful runs in ms; undefined before any. */
  averageMs: number | undefined;
}

export interface Distribution {
  jobId: string;
  agentId: string;
  rank: number;
  score: number;
  status: DistributionStatus;
  result: unknown;
  error: string | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

/** Weights of the ranking score. Each term is in 0..1. */
export interface RankWeights {
  /** Default 0.5. */
  reputation?: number;
  /** Default 0.4. */
  successRate?: number;
  /** Faster average time scores higher: `1 / (1 + averageMs / speedScaleMs)`. Default 0.1. */
  speed?: number;
}
