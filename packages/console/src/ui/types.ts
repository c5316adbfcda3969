// The shapes of @agentrix/server's answers that the console reads (packages/server/API.md).
import type { BudgetStatus } from '@agentrix/gateway';

export type AgentState = 'created' | 'idle' | 'running' | 'paused' | 'error' | 'terminated';

export interface SerializedError {
  code?: string;
  message: string;
}

// The budgets answer is the gateway's own status, serialized as it is: a type-only import, erased
// from the browser bundle.
export type { BudgetStatus };

export interface Agent {
  id: string;
  name: string;
  role?: string;
  parentId?: string;
  children: string[];
  state: AgentState;
  turns: number;
  lastError?: SerializedError;
  pause?: { kind: string; resumesAt?: number };
  budgets: BudgetStatus[];
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string; name?: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface ThreadSummary {
  threadId: string;
  turns: number;
  updatedAt: number | string;
}

export interface Envelope {
  id: string;
  from: string;
  to: string;
  type: string;
  content: string;
  threadId?: string;
  data?: unknown;
}

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  errors: number;
  degraded: number;
}

export interface DailyReport {
  day: string;
  total: UsageTotals;
  byAgent: Record<string, UsageTotals>;
  byModel: Record<string, UsageTotals>;
}

export interface LedgerRecord {
  id: string;
  at: number;
  day: string;
  agentId?: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  estimated: boolean;
  cacheHit: boolean;
  degradedFrom?: string;
  error?: { code: string; message: string };
}

export interface DeadLetter {
  inbox: string;
  envelope: Envelope;
  attempts: number;
  error?: SerializedError;
  deadAt: number;
}

export interface InboxStats {
  inbox: string;
  unread: number;
  inFlight: number;
  deadLetters: number;
}

export interface Job {
  id: string;
  queue: string;
  type: string;
  payload?: unknown;
  status: string;
  priority?: number;
  attempts: number;
  maxAttempts?: number;
  lastError?: SerializedError | string;
  createdAt?: number | string;
  updatedAt?: number | string;
}

export interface Approval {
  id: string;
  agentId: string;
  skill: string;
  input: unknown;
}

export interface HqTask {
  taskId: string;
  goalId: string;
  title: string;
  description?: string;
  role?: string;
  status: string;
  attempts: number;
  agentId?: string;
  result?: unknown;
  lastError?: SerializedError | string;
}

export interface McpServer {
  name: string;
  transport: string;
  state: string;
  tools: Record<string, string>;
  lastError?: string;
  pid?: number;
  recentFailures?: { id: number; name: string; at: number; data: any }[];
}

export interface TaskCounts {
  done: number;
  failed: number;
  inProgress: number;
}

export interface HqGoal {
  id: string;
  text: string;
  priority: number;
  deadline?: number;
  createdAt: number;
  status: string;
  tasks: TaskCounts;
  error?: string;
}

export interface HqReport {
  generatedAt: number;
  paused: boolean;
  goals: HqGoal[];
  tasks: TaskCounts;
  spend?: { day: string; totalUsd: number; byAgent: Record<string, { costUsd: number; calls: number }> };
  agentBudgets: Record<string, number>;
}

export interface ScheduleRecord {
  agentId: string;
  cron: string;
  timezone?: string;
  content: string;
  nextRunAt: number;
  lastRunAt?: number;
  paused: boolean;
}
