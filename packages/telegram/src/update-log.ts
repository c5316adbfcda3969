import type { SerializedError } from '@agentrix/core';

/**
 * Where an update stands: `received` (recorded, not handled yet: a crash came in between, so it
 * is handled again at start), `dispatched` (handed to an agent through the bus; the answer comes
 * back as a reply), `answered`, `ignored` (a kind the channel does not handle), `failed`
 * (dead-lettered after its attempts; the user got an apology).
 */
export type UpdateStatus = 'received' | 'dispatched' | 'answered' | 'ignored' | 'failed';

/** Where an update's answer goes: its chat (and forum topic) and the agent thread it maps to. */
export interface UpdateTarget {
  chatId: number;
  topicId?: number;
  agentId?: string;
  threadId?: string;
}

export interface UpdateRecord extends Partial<UpdateTarget> {
  botId: string;
  updateId: number;
  status: UpdateStatus;
  /** The update as Telegram sent it. */
  update: unknown;
  attempts: number;
  error?: SerializedError;
  /** The message that showed the answer as it streamed: after a restart the answer replaces it. */
  shownMessageId?: number;
  receivedAt: number;
  updatedAt: number;
}

/**
 * The durable record of every update, by (bot, `update_id`), written before the update is
 * handled: a redelivered update (a webhook retry, a polling overlap, a restart) is recognised,
 * and one a crash interrupted is found again. `SqlUpdateLog` keeps it in the store's database.
 */
export interface UpdateLog {
  /**
   * Records `update` as `received` unless it is known: returns the stored record and whether it
   * is new. A known record keeps its status (a `received` one was interrupted and may be handled).
   */
  record(
    botId: string,
    updateId: number,
    update: unknown,
    at: number,
  ): Promise<{ fresh: boolean; record: UpdateRecord }>;
  get(botId: string, updateId: number): Promise<UpdateRecord | undefined>;
  /**
   * Sets the status (and the target, an attempt count or the error) of a recorded update. An
   * update `answered` or `failed` keeps that status: a late `received` or `dispatched` mark (the
   * answer came before the dispatch was recorded) does not undo it.
   */
  mark(botId: string, updateId: number, status: UpdateStatus, at: number, fields?: MarkFields): Promise<void>;
  /** Updates still `received` (oldest first): interrupted by a crash, to be handled again. */
  unhandled(botId: string, limit: number): Promise<UpdateRecord[]>;
  /** Deletes records older than `before` whose handling is over. Returns how many. */
  prune(botId: string, before: number): Promise<number>;
}

/** What a mark may set besides the status. */
export type MarkFields = Partial<UpdateTarget> & {
  attempts?: number;
  error?: SerializedError;
  shownMessageId?: number;
};

/** An {@link UpdateLog} in memory: duplicates are caught within one process only. */
export class InMemoryUpdateLog implements UpdateLog {
  readonly #records = new Map<string, UpdateRecord>();

  async record(botId: string, updateId: number, update: unknown, at: number) {
    const key = `${botId}:${updateId}`;
    const known = this.#records.get(key);
    if (known !== undefined) return { fresh: false, record: { ...known } };
    const record: UpdateRecord = {
      botId,
      updateId,
      status: 'received',
      update,
      attempts: 0,
      receivedAt: at,
      updatedAt: at,
    };
    this.#records.set(key, record);
    return { fresh: true, record: { ...record } };
  }

  async get(botId: string, updateId: number): Promise<UpdateRecord | undefined> {
    const record = this.#records.get(`${botId}:${updateId}`);
    return record === undefined ? undefined : { ...record };
  }

  async mark(
    botId: string,
    updateId: number,
    status: UpdateStatus,
    at: number,
    fields: MarkFields = {},
  ): Promise<void> {
    const record = this.#records.get(`${botId}:${updateId}`);
    if (record === undefined) return;
    const final = (record.status === 'answered' || record.status === 'failed') && !isFinal(status);
    Object.assign(record, definedFields(fields), { status: final ? record.status : status, updatedAt: at });
  }

  async unhandled(botId: string, limit: number): Promise<UpdateRecord[]> {
    return [...this.#records.values()]
      .filter((record) => record.botId === botId && record.status === 'received')
      .sort((a, b) => a.updateId - b.updateId)
      .slice(0, limit)
      .map((record) => ({ ...record }));
  }

  async prune(botId: string, before: number): Promise<number> {
    let deleted = 0;
    for (const [key, record] of this.#records) {
      if (record.botId === botId && record.status !== 'received' && record.updatedAt < before) {
        this.#records.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}

export function isFinal(status: UpdateStatus): boolean {
  return status === 'answered' || status === 'failed' || status === 'ignored';
}

function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
