import { emitDeadLettered } from '@agentrix/bus/implement';
import { type Delivery, type MessageEnvelope, type SerializedError, serializeError } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import type { ResolvedSqlMessageBusOptions } from './sql-message-bus-options.js';
import type { StoreTables } from './store-tables.js';

interface ClaimedRow {
  id: unknown;
  envelope: MessageEnvelope;
  attempt: number;
  last_error: SerializedError | null;
  requeue_rank: unknown;
}

export interface RequeuedRow {
  id: unknown;
  state: 'ready' | 'dead';
  envelope: MessageEnvelope;
  attempt: number;
  last_error: SerializedError | null;
}

/**
 * The rows of {@link SqlMessageBus} and their leases: a read claims ready rows (`FOR UPDATE SKIP
 * LOCKED`, `leased_until`), takes back leases that ended, and gives rows back (nack, release, an
 * aborted read) to the front of the inbox or, when spent, to dead letter.
 */
export class SqlBusLeases {
  readonly #options: ResolvedSqlMessageBusOptions;
  readonly #database: Database;
  readonly #db: Kysely<StoreTables>;
  readonly #isClosed: () => boolean;
  /** A read leased rows until `until` (the readers arm their lease timer). */
  readonly #onLeased: (inbox: string, until: number) => void;

  constructor(
    options: ResolvedSqlMessageBusOptions,
    db: Kysely<StoreTables>,
    isClosed: () => boolean,
    onLeased: (inbox: string, until: number) => void,
  ) {
    this.#options = options;
    this.#database = options.database;
    this.#db = db;
    this.#isClosed = isClosed;
    this.#onLeased = onLeased;
  }

  /** The earliest lease end of the inbox (any process), or undefined when nothing is leased. */
  async earliestLeaseEnd(inbox: string): Promise<number | undefined> {
    const result = await sql<{ at: unknown }>`select min(leased_until) as at from agentrix_bus_messages
      where inbox = ${inbox} and state = 'leased'`.execute(this.#db);
    const at = result.rows[0]?.at;
    return at === null || at === undefined ? undefined : toNumber(at);
  }

  /** Logs and announces the rows among `rows` that went to dead letter. */
  reportDead(inbox: string, rows: readonly RequeuedRow[]): void {
    const events = this.#options.events;
    for (const row of rows) {
      if (row.state !== 'dead') continue;
      this.#options.logger.warn(
        { ...this.rowFields(inbox, row), attempts: row.attempt, code: row.last_error?.code },
        'bus message dead-lettered after its last delivery',
      );
      emitDeadLettered(events, inbox, row.envelope, row.attempt, row.last_error ?? undefined);
    }
  }

  /** Log fields of a stored message (never its content). */
  rowFields(inbox: string, row: RequeuedRow): { inbox: string; messageId: string; attempt: number } {
    return { inbox, messageId: row.envelope.id, attempt: row.attempt };
  }

  /** Moves leased rows matching `where` back to ready (front of the inbox) or, when spent, to dead letter. */
  async requeue(
    inbox: string,
    where: RawBuilder<unknown>,
    lastError: RawBuilder<unknown>,
    operation: string,
  ): Promise<RequeuedRow[]> {
    const max = this.#options.maxDeliveries;
    const now = this.#options.clock.now();
    try {
      const result = await sql<RequeuedRow>`with rank as (select nextval('agentrix_bus_rank') as r)
        update agentrix_bus_messages m set
          state = case when m.attempt >= ${max} then 'dead' else 'ready' end,
          requeue_rank = rank.r, consumer = null, leased_until = null,
          last_error = ${lastError},
          dead_at = case when m.attempt >= ${max} then ${now}::bigint else null end
        from rank
        where m.inbox = ${inbox} and m.state = 'leased' and ${where}
        returning m.id, m.state, m.envelope, m.attempt, m.last_error`.execute(this.#db);
      return result.rows;
    } catch (error) {
      throw storeError(error, `${operation} in ${inbox}`);
    }
  }

  /** Takes back leases that ended; returns how many rows changed. */
  async reclaimExpired(inbox: string): Promise<number> {
    const max = this.#options.maxDeliveries;
    const now = this.#options.clock.now();
    const result = await sql<RequeuedRow>`with expired as (
        select id from agentrix_bus_messages
        where inbox = ${inbox} and state = 'leased' and leased_until <= ${now}
        for update skip locked
      ), rank as (select nextval('agentrix_bus_rank') as r where exists (select 1 from expired))
      update agentrix_bus_messages m set
        state = case when m.attempt >= ${max} then 'dead' else 'ready' end,
        requeue_rank = rank.r, consumer = null, leased_until = null,
        dead_at = case when m.attempt >= ${max} then ${now}::bigint else null end
      from expired, rank
      where m.id = expired.id
      returning m.id, m.state, m.envelope, m.attempt, m.last_error`.execute(this.#db);
    for (const row of result.rows) {
      // Nobody else sees this: the consumer that held it crashed or stalled past its lease.
      if (row.state === 'ready') {
        this.#options.logger.info(
          this.rowFields(inbox, row),
          'bus lease expired without ack; message will be redelivered',
        );
      }
    }
    if (result.rows.length > 0) this.reportDead(inbox, result.rows);
    return result.rows.length;
  }

  /** Reclaims expired leases, then leases up to `max` ready rows to `consumer`, in delivery order. */
  async claim(inbox: string, consumer: string, max: number): Promise<Delivery[]> {
    const now = this.#options.clock.now();
    const until = now + this.#options.leaseMs;
    let rows: ClaimedRow[];
    try {
      await this.reclaimExpired(inbox);
      const result = await sql<ClaimedRow>`with picked as (
          select id from agentrix_bus_messages
          where inbox = ${inbox} and state = 'ready'
          order by requeue_rank desc nulls last, id
          limit ${max}
          for update skip locked
        )
        update agentrix_bus_messages m set state = 'leased', attempt = m.attempt + 1, consumer = ${consumer},
          leased_until = ${until}
        from picked where m.id = picked.id
        returning m.id, m.envelope, m.attempt, m.last_error, m.requeue_rank`.execute(this.#db);
      rows = result.rows;
    } catch (error) {
      throw storeError(error, `read from ${inbox}`);
    }
    if (rows.length === 0) return [];
    if (rows.length > 1) rows.sort(deliveryOrder);
    for (const row of rows) {
      if (row.attempt > 1) {
        this.#options.logger.debug(
          { inbox, messageId: row.envelope.id, attempt: row.attempt, consumer },
          'bus redelivery',
        );
      }
    }
    this.#onLeased(inbox, until);
    return rows.map((row) => {
      const delivery: Delivery = { deliveryId: String(row.id), envelope: row.envelope, attempt: row.attempt };
      if (row.last_error !== null && row.last_error !== undefined) delivery.lastError = row.last_error;
      return delivery;
    });
  }

  /** Gives back deliveries claimed for a reader that left meanwhile, as if never delivered. */
  async unclaim(inbox: string, consumer: string, deliveries: readonly Delivery[]): Promise<void> {
    const ids = numericIds(deliveries.map((delivery) => delivery.deliveryId));
    if (ids === undefined || this.#database.closed) return;
    try {
      await sql`with rank as (select nextval('agentrix_bus_rank') as r)
        update agentrix_bus_messages m set state = 'ready', attempt = m.attempt - 1, consumer = null,
          leased_until = null, requeue_rank = rank.r
        from rank
        where m.inbox = ${inbox} and m.id = any(${ids}::bigint[]) and m.state = 'leased' and m.consumer = ${consumer}`.execute(
        this.#db,
      );
    } catch (error) {
      // The lease expires on its own; the message is redelivered then (as a later attempt).
      const serialized = serializeError(error);
      this.#options.logger.warn(
        { inbox, code: serialized.code, error: serialized },
        'could not give back deliveries of an aborted read',
      );
      return;
    }
    if (!this.#isClosed()) this.#database.notifyLocal(this.#options.channel, inbox);
  }
}

function deliveryOrder(a: ClaimedRow, b: ClaimedRow): number {
  const rankA = a.requeue_rank === null ? null : toNumber(a.requeue_rank);
  const rankB = b.requeue_rank === null ? null : toNumber(b.requeue_rank);
  if (rankA !== rankB) {
    if (rankA === null) return 1;
    if (rankB === null) return -1;
    return rankB - rankA;
  }
  return toNumber(a.id) - toNumber(b.id);
}

/** Delivery ids as a Postgres array literal, leaving out ids this bus never issued. */
export function numericIds(deliveryIds: readonly string[]): string | undefined {
  if (!Array.isArray(deliveryIds)) throw invalidArgument('expected an array of delivery ids');
  const ids = deliveryIds.filter((id) => typeof id === 'string' && /^[1-9][0-9]{0,17}$/.test(id));
  return ids.length === 0 ? undefined : `{${ids.join(',')}}`;
}
