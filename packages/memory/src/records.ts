import { jsonColumn } from '@agentrix/store';
import type { EpisodeSummary } from './episode-summary.js';
import type { MemoryScope } from './scope.js';

/** A stable fact of semantic memory. */
export interface Fact {
  id: string;
  scope: MemoryScope;
  key: string;
  text: string;
  /** True when the text was cut to the length limit (it ends with the truncation marker). */
  truncated: boolean;
  tags: string[];
  /** The episode it was distilled from, when any. */
  sourceEpisodeId?: string | undefined;
  /** The episodes (turns) a distilled fact or summary was drawn from, in the order said; [] otherwise. */
  evidenceEpisodeIds: string[];
  createdAt: number;
  updatedAt: number;
}

/** One episode of episodic memory: a turn or a task, summarized. */
export interface Episode {
  id: string;
  scope: MemoryScope;
  /** The message the episode's turn answered: one episode per (agent, message). */
  messageId?: string | undefined;
  /** The searchable text: the rendered summary, or the transcript when `unstructured`. */
  text: string;
  /** The structured summary; missing when `unstructured`. */
  summary?: EpisodeSummary | undefined;
  /** True when the model's summary failed its schema twice and the episode is plain text. */
  unstructured: boolean;
  truncated: boolean;
  tags: string[];
  /** When it was said (epoch ms): `recordEpisode`'s `occurredAt`, else when it was written. */
  occurredAt: number;
  /** When it was written (epoch ms). */
  createdAt: number;
}

export interface ScopeRow {
  user_id: string;
  agent_id: string;
  thread_id: string;
  namespace: string;
}

export function rowScope(row: ScopeRow): MemoryScope {
  const scope: MemoryScope = {};
  if (row.user_id) scope.userId = row.user_id;
  if (row.agent_id) scope.agentId = row.agent_id;
  if (row.thread_id) scope.threadId = row.thread_id;
  if (row.namespace) scope.namespace = row.namespace;
  return scope;
}

export interface FactRow extends ScopeRow {
  id: string;
  key: string;
  text: string;
  truncated: boolean;
  tags: unknown;
  source_episode_id: string | null;
  evidence: unknown;
  created_at: string | number;
  updated_at: string | number;
}

export const FACT_COLUMNS = [
  'id',
  'user_id',
  'agent_id',
  'thread_id',
  'namespace',
  'key',
  'text',
  'truncated',
  'tags',
  'source_episode_id',
  'evidence',
  'created_at',
  'updated_at',
] as const;

export function toFact(row: FactRow): Fact {
  return {
    id: row.id,
    scope: rowScope(row),
    key: row.key,
    text: row.text,
    truncated: row.truncated,
    tags: jsonColumn<string[]>(row.tags, []),
    sourceEpisodeId: row.source_episode_id ?? undefined,
    evidenceEpisodeIds: jsonColumn<string[]>(row.evidence, []),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export interface EpisodeRow extends ScopeRow {
  id: string;
  message_id: string | null;
  text: string;
  summary: unknown;
  unstructured: boolean;
  truncated: boolean;
  tags: unknown;
  occurred_at: string | number;
  created_at: string | number;
}

export const EPISODE_COLUMNS = [
  'id',
  'user_id',
  'agent_id',
  'thread_id',
  'namespace',
  'message_id',
  'text',
  'summary',
  'unstructured',
  'truncated',
  'tags',
  'occurred_at',
  'created_at',
] as const;

export function toEpisode(row: EpisodeRow): Episode {
  return {
    id: row.id,
    scope: rowScope(row),
    messageId: row.message_id ?? undefined,
    text: row.text,
    summary: jsonColumn<EpisodeSummary>(row.summary),
    unstructured: row.unstructured,
    truncated: row.truncated,
    tags: jsonColumn<string[]>(row.tags, []),
    occurredAt: Number(row.occurred_at),
    createdAt: Number(row.created_at),
  };
}
