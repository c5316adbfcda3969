import { AgentSpecSchema, AgentStateSchema, ChatMessageSchema, MessageEnvelopeSchema } from '@agentrix/core';
import { z } from 'zod';

// Request schemas: bodies and queries, validated at the boundary and written into /openapi.json.

const limit = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const offset = z.coerce.number().int().min(0).default(0);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD');

export const ListAgentsQuery = z.strictObject({ state: AgentStateSchema.optional(), role: z.string().optional() });
export const CreateAgentBody = AgentSpecSchema.extend({
  /** Start taking messages at once. Default true. */
  start: z.boolean().optional(),
});
export const TerminateBody = z.strictObject({ reason: z.string().max(1_000).optional() });
export const ThreadsQuery = z.strictObject({ limit: limit(100, 1_000) });
export const AskBody = z.strictObject({
  content: z.string().min(1),
  threadId: z.string().optional(),
  /** Default: the manager's ask timeout (60 s). */
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
});
export const SendBody = z.strictObject({
  content: z.string().min(1),
  threadId: z.string().optional(),
  data: z.unknown().optional(),
});
export const EventsQuery = z.strictObject({
  agent: z.string().optional(),
  kind: z.string().optional(),
  lastEventId: z.coerce.number().int().min(0).optional(),
  access_token: z.string().optional(),
});
export const RecentEventsQuery = z.strictObject({
  agent: z.string().optional(),
  kind: z.string().optional(),
  limit: limit(100, 10_000),
});
export const BudgetScopeQuery = z.strictObject({
  agentId: z.string().optional(),
  userId: z.string().optional(),
  workflowId: z.string().optional(),
  tag: z.string().optional(),
});
export const SetBudgetBody = z
  .strictObject({ usd: z.number().finite().positive().optional(), tokens: z.number().int().positive().optional() })
  .refine((caps) => caps.usd !== undefined || caps.tokens !== undefined, { message: 'give usd, tokens or both' });
export const ReportQuery = z.strictObject({ day: day.optional() });
export const LedgerQuery = z.strictObject({
  fromDay: day.optional(),
  toDay: day.optional(),
  agentId: z.string().optional(),
  userId: z.string().optional(),
  workflowId: z.string().optional(),
  limit: limit(50, 500),
  offset,
});
export const DeadLettersQuery = z.strictObject({ limit: limit(100, 1_000) });
/** Message ids (`envelope.id`) of dead letters; 1,000 per request keeps one call's work bounded. */
const DeadLetterIds = z.array(z.string().min(1).max(200)).min(1).max(1_000);
export const RedriveInboxBody = z.strictObject({
  ids: DeadLetterIds.optional(),
  limit: z.number().int().min(1).optional(),
});
export const DiscardDeadLettersBody = z.strictObject({ ids: DeadLetterIds });
export const JobsQuery = z.strictObject({
  status: z.enum(['pending', 'running', 'done', 'failed', 'dead']).optional(),
  limit: limit(50, 500),
  offset,
});
export const ApprovalsQuery = z.strictObject({ agentId: z.string().optional() });
export const ApproveBody = z.strictObject({ by: z.string().max(200).optional() });
export const RejectBody = z.strictObject({
  reason: z.string().max(1_000).optional(),
  by: z.string().max(200).optional(),
});
export const StrategicGoalBody = z.strictObject({
  goal: z.string().trim().min(1),
  priority: z.number().finite().optional(),
  /** Epoch ms or an ISO date. */
  deadline: z.union([z.number().finite(), z.iso.datetime({ offset: true })]).optional(),
  id: z.string().min(1).max(128).optional(),
});
export const HqBudgetBody = z.strictObject({
  agentId: z.string().min(1),
  /** USD per UTC day: the agent's own gateway budget (a gateway budget cannot be removed). */
  usdPerDay: z.number().finite().positive(),
});

// Response shapes, for the OpenAPI document (the handlers build them from typed values).

const SerializedErrorSchema = z.looseObject({ name: z.string(), message: z.string(), code: z.string().optional() });
const BudgetStatusSchema = z.object({
  budget: z.string(),
  period: z.enum(['day', 'month', 'total']),
  unit: z.enum(['usd', 'tokens']),
  limit: z.number(),
  spent: z.number(),
  reserved: z.number(),
  remaining: z.number(),
});
export const AgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string().optional(),
  state: AgentStateSchema,
  parentId: z.string().optional(),
  children: z.array(z.string()),
  turns: z.number(),
  lastError: SerializedErrorSchema.optional(),
  pause: z.looseObject({ kind: z.enum(['host', 'outage', 'budget']) }).optional(),
  budgets: z.array(BudgetStatusSchema),
  spec: z.looseObject({}),
});
export const AgentResponse = z.object({ agent: AgentSchema });
export const AgentsResponse = z.object({ agents: z.array(AgentSchema) });
export const ThreadsResponse = z.object({
  threads: z.array(z.object({ threadId: z.string(), turns: z.number(), updatedAt: z.number() })),
});
export const ThreadResponse = z.object({
  thread: z.object({
    threadId: z.string(),
    turns: z.number(),
    updatedAt: z.number(),
    messages: z.array(ChatMessageSchema),
  }),
});
export const ReplyResponse = z.object({ reply: MessageEnvelopeSchema });
export const MessageResponse = z.object({ message: MessageEnvelopeSchema });
const LiveEventSchema = z.object({ id: z.number(), name: z.string(), at: z.number(), data: z.unknown() });
export const EventsResponse = z.object({ events: z.array(LiveEventSchema) });
export const BudgetsResponse = z.object({ budgets: z.array(BudgetStatusSchema) });
export const JobSchema = z.looseObject({ id: z.string(), queue: z.string(), type: z.string(), status: z.string() });
export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});
export { LiveEventSchema, SerializedErrorSchema };
