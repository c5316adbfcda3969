import { closeFailure } from '@agentrix/bus/implement';
import {
  AgentrixError,
  abortError,
  type BroadcastInput,
  type DeadLetter,
  type Delivery,
  type InboxStats,
  type MessageBus,
  type MessageEnvelope,
  type NackOptions,
  type ReadOptions,
  type RedriveOptions,
  type SendInput,
  type SerializedError,
  serializeError,
} from '@agentrix/core';
import {
  busClosed,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  DEFAULT_DEAD_LETTER_LIMIT,
  groupNotFound,
  messageIds,
  parseBroadcastInput,
  positiveLimit,
  resolveReadOptions,
  toNumber,
  validateAddress,
} from '@agentrix/core/implement';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import { numericIds, type RequeuedRow, SqlBusLeases } from './sql-message-bus-leases.js';
import {
  type ResolvedSqlMessageBusOptions,
  resolveSqlMessageBusOptions,
  type SqlMessageBusOptions,
} from './sql-message-bus-options.js';
import { SqlBlockedReaders } from './sql-message-bus-readers.js';
import { type StoreTables, storeKysely } from './store-tables.js';

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * A durable {@link MessageBus} on SQL (`agentrix_bus_*` tables): every message is a row from
 * `send` until `ack`, so a process on PGlite (on disk) or Postgres loses nothing across a crash.
 *
 * - At-least-once: reads lease rows (`FOR UPDATE SKIP LOCKED`, `leased_until`); a lease that
 *   ends without ack (crash, slow consumer) is taken back by the next read; after
 *   `maxDeliveries` deliveries the message moves to dead letter with its last error.
 * - De-duplication by explicit message id and by `externalId`, per inbox, through unique
 *   indexes; kept after ack (acked rows with a key stay as tombstones) until `deleteInbox`.
 * - Blocking reads without polling: readers wait in memory and are woken by `send`, `nack`,
 *   `releaseConsumer` and `redrive` in this process, by LISTEN/NOTIFY from other processes on
 *   Postgres, and by a timer at the earliest lease expiry they know of.
 * - `close()` leaves the database open (it was passed in).
 */
export class SqlMessageBus implements MessageBus {
  readonly #options: ResolvedSqlMessageBusOptions;
  readonly #database: Database;
  readonly #db: Kysely<StoreTables>;
  readonly #leases: SqlBusLeases;
  readonly #readers: SqlBlockedReaders;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: SqlMessageBusOptions) {
    this.#options = resolveSqlMessageBusOptions(options);
    this.#database = this.#options.database;
    this.#db = storeKysely(this.#database.kysely);
    const isClosed = () => this.#closed;
    this.#leases = new SqlBusLeases(this.#options, this.#db, isClosed, (inbox, until) =>
      this.#readers.onLeased(inbox, until),
    );
    this.#readers = new SqlBlockedReaders(this.#options, this.#leases, isClosed);
  }

  get leaseMs(): number {
    return this.#options.leaseMs;
  }

  /** Deliveries of a message before it moves to dead letter. */
  get maxDeliveries(): number {
    return this.#options.maxDeliveries;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Appends a message to `input.to`. A repeated explicit `id` or `externalId` in that inbox is
   * not enqueued again: the original envelope is returned.
   */
  async send(input: SendInput): Promise<MessageEnvelope> {
    this.#assertOpen('send');
    const message = checkSendInput(input, this.#options.maxMessageBytes);
    const explicitId = message.id;
    const envelope = completeEnvelope(message, this.#options.generateId, this.#options.clock.now());
    try {
      const stored = await this.#append(this.#db, envelope, explicitId);
      if (stored !== envelope) return stored;
    } catch (error) {
      throw storeError(error, `send to ${envelope.to}`);
    }
    this.#database.notifyLocal(this.#options.channel, envelope.to);
    if (this.#options.events?.has('message.sent')) this.#options.events.emit('message.sent', { envelope });
    return envelope;
  }

  /**
   * A copy to every member's inbox (in join order), each with its own generated id, `to` set to
   * the member and `group` to the group, in one transaction. An explicit `id` or `externalId`
   * de-duplicates per member inbox.
   */
  async broadcast(input: BroadcastInput): Promise<MessageEnvelope[]> {
    this.#assertOpen('broadcast');
    const message = parseBroadcastInput(input);
    const explicitId = message.id;
    const type = message.type ?? 'message';
    const createdAt = this.#options.clock.now();
    let result: { envelopes: MessageEnvelope[]; fresh: MessageEnvelope[] };
    try {
      result = await this.#db.transaction().execute(async (trx) => {
        const group = await trx
          .selectFrom('agentrix_bus_groups')
          .select('name')
          .where('name', '=', message.group)
          .executeTakeFirst();
        if (group === undefined) throw groupNotFound(message.group);
        checkMessageSize(message.content, message.data, this.#options.maxMessageBytes, message.group);
        const members = await trx
          .selectFrom('agentrix_bus_members')
          .select('member')
          .where('group_name', '=', message.group)
          .orderBy('seq')
          .execute();
        const envelopes: MessageEnvelope[] = [];
        const fresh: MessageEnvelope[] = [];
        for (const { member } of members) {
          const envelope: MessageEnvelope = {
            ...message,
            id: this.#options.generateId(),
            to: member as string,
            type,
            createdAt,
          };
          const stored = await this.#append(trx, envelope, explicitId);
          envelopes.push(stored);
          if (stored === envelope) fresh.push(envelope);
        }
        return { envelopes, fresh };
      });
    } catch (error) {
      throw storeError(error, `broadcast to ${message.group}`);
    }
    for (const envelope of result.fresh) {
      this.#database.notifyLocal(this.#options.channel, envelope.to);
      if (this.#options.events?.has('message.sent')) this.#options.events.emit('message.sent', { envelope });
    }
    return result.envelopes;
  }

  /** Inserts the envelope unless its dedupe key or external id is known; returns what the inbox holds. */
  async #append(
    db: Kysely<StoreTables>,
    envelope: MessageEnvelope,
    dedupeKey: string | undefined,
  ): Promise<MessageEnvelope> {
    const externalId = envelope.externalId ?? null;
    const key = dedupeKey ?? null;
    const remote = this.#database.remoteNotification(this.#options.channel, envelope.to);
    for (let attempt = 0; attempt < 3; attempt++) {
      const insert = sql`insert into agentrix_bus_messages
          (inbox, message_id, dedupe_key, external_id, envelope, state, created_at)
        values (${envelope.to}, ${envelope.id}, ${key}, ${externalId}, ${JSON.stringify(envelope)}::jsonb, 'ready', ${envelope.createdAt})
        on conflict do nothing
        returning id`;
      const inserted =
        remote === undefined
          ? await insert.execute(db)
          : await sql`with inserted as (${insert}) select id, pg_notify(${remote[0]}, ${remote[1]}) from inserted`.execute(
              db,
            );
      if (inserted.rows.length > 0) return envelope;
      if (key === null && externalId === null) continue; // cannot happen: no unique key to hit
      const existing = await sql<{ envelope: MessageEnvelope }>`select envelope from agentrix_bus_messages
        where inbox = ${envelope.to} and (dedupe_key = ${key} or external_id = ${externalId})
        order by (dedupe_key is not distinct from ${key}) desc
        limit 1`.execute(db);
      const original = existing.rows[0]?.envelope;
      if (original !== undefined) return original;
      // The original vanished in between (deleteInbox): try the insert again.
    }
    throw new AgentrixError('INTERNAL', `Could not append message ${envelope.id} to ${envelope.to}`);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Up to `max` deliveries for `consumer`: expired and released deliveries first, then unread
   * messages in send order. When there are none, `blockMs: 0` returns `[]`, a number waits up to
   * that long, `undefined` until a message arrives. A firing `signal` rejects with `ABORTED` and
   * takes nothing; `close()` resolves blocked reads with `[]`.
   */
  async read(inbox: string, options?: ReadOptions): Promise<Delivery[]> {
    this.#assertOpen('read');
    validateAddress(inbox, 'inbox');
    const { consumer, max, blockMs, signal } = resolveReadOptions(options, this.#options.consumer);
    if (blockMs !== 0) await this.#readers.listen();
    const wakesBefore = this.#readers.wakes;
    const deliveries = await this.#leases.claim(inbox, consumer, max);
    if (deliveries.length > 0) {
      if (signal?.aborted) {
        await this.#leases.unclaim(inbox, consumer, deliveries);
        throw abortError(signal, 'read');
      }
      return deliveries;
    }
    if (blockMs === 0 || this.#closed) return [];
    if (signal?.aborted) throw abortError(signal, 'read');
    return this.#readers.wait(inbox, consumer, max, blockMs, signal, this.#readers.wakes !== wakesBefore);
  }

  /** Removes deliveries for good (keeping a tombstone for de-duplication keys). Unknown ids are ignored. */
  async ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    this.#assertOpen('ack');
    validateAddress(inbox, 'inbox');
    const ids = numericIds(deliveryIds);
    if (ids === undefined) return;
    try {
      await sql`with done as (
          select id, (dedupe_key is not null or external_id is not null) as keep from agentrix_bus_messages
          where inbox = ${inbox} and id = any(${ids}::bigint[]) and state = 'leased'
          for update
        ), gone as (
          delete from agentrix_bus_messages m using done where m.id = done.id and not done.keep
        )
        update agentrix_bus_messages m set state = 'acked', consumer = null, leased_until = null, last_error = null
        from done where m.id = done.id and done.keep`.execute(this.#db);
    } catch (error) {
      throw storeError(error, `ack in ${inbox}`);
    }
  }

  /** `ack`: a SQL ack is a statement, never done at once. */
  ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    return this.ack(inbox, deliveryIds);
  }

  /** `send`: this bus's sends need I/O, so there is always its promise to wait for. */
  sendNow(input: SendInput): Promise<MessageEnvelope> {
    return this.send(input);
  }

  /**
   * Restarts the lease of deliveries `consumer` (default: the bus's own) still holds. Returns
   * how many were still held.
   */
  async extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number> {
    this.#assertOpen('extendLease');
    validateAddress(inbox, 'inbox');
    const ids = numericIds(deliveryIds);
    if (ids === undefined) return 0;
    const consumer = options?.consumer ?? this.#options.consumer;
    const now = this.#options.clock.now();
    try {
      const result = await sql`update agentrix_bus_messages set leased_until = ${now + this.#options.leaseMs}
        where inbox = ${inbox} and id = any(${ids}::bigint[]) and state = 'leased' and consumer = ${consumer}
          and leased_until > ${now}`.execute(this.#db);
      return Number(result.numAffectedRows ?? 0n);
    } catch (error) {
      throw storeError(error, `extendLease in ${inbox}`);
    }
  }

  /**
   * Puts a leased delivery back at the front of the inbox for immediate redelivery, recording
   * `serializeError(error)`; after `maxDeliveries` deliveries it moves to dead letter instead.
   */
  async nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void> {
    this.#assertOpen('nack');
    validateAddress(inbox, 'inbox');
    const ids = numericIds([deliveryId]);
    if (ids === undefined) return;
    const error = options?.error === undefined ? null : JSON.stringify(serializeError(options.error));
    const rows = await this.#leases.requeue(
      inbox,
      sql`m.id = any(${ids}::bigint[])`,
      sql`coalesce(${error}::jsonb, m.last_error)`,
      'nack',
    );
    for (const row of rows) {
      // The consumer decided to retry and logs it; this is the bus's side of it.
      if (row.state === 'ready')
        this.#options.logger.debug(this.#leases.rowFields(inbox, row), 'bus message requeued (nack)');
    }
    if (rows.length > 0) await this.#wake(inbox, rows);
  }

  async releaseConsumer(inbox: string, consumer: string): Promise<number> {
    this.#assertOpen('releaseConsumer');
    validateAddress(inbox, 'inbox');
    const rows = await this.#leases.requeue(inbox, sql`m.consumer = ${consumer}`, sql`m.last_error`, 'releaseConsumer');
    if (rows.length > 0) await this.#wake(inbox, rows);
    return rows.length;
  }

  // ---------------------------------------------------------------- inbox management

  async stats(inbox: string): Promise<InboxStats> {
    this.#assertOpen('stats');
    validateAddress(inbox, 'inbox');
    try {
      const reclaimed = await this.#leases.reclaimExpired(inbox);
      if (reclaimed > 0) this.#database.notifyLocal(this.#options.channel, inbox);
      const result = await sql<{ unread: unknown; in_flight: unknown; dead: unknown }>`select
          count(*) filter (where state = 'ready') as unread,
          count(*) filter (where state = 'leased') as in_flight,
          count(*) filter (where state = 'dead') as dead
        from agentrix_bus_messages where inbox = ${inbox}`.execute(this.#db);
      const row = result.rows[0];
      return {
        unread: toNumber(row?.unread ?? 0),
        inFlight: toNumber(row?.in_flight ?? 0),
        deadLetters: toNumber(row?.dead ?? 0),
      };
    } catch (error) {
      throw storeError(error, `stats of ${inbox}`);
    }
  }

  /** The oldest dead letters first, at most `limit` (default 100). */
  async deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]> {
    this.#assertOpen('deadLetters');
    const limit = positiveLimit(options?.limit, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters');
    validateAddress(inbox, 'inbox');
    try {
      const rows = await this.#db
        .selectFrom('agentrix_bus_messages')
        .select(['envelope', 'attempt', 'last_error', 'dead_at'])
        .where('inbox', '=', inbox)
        .where('state', '=', 'dead')
        .orderBy('requeue_rank')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((row) => {
        const letter: DeadLetter = {
          inbox,
          envelope: row.envelope as MessageEnvelope,
          attempts: row.attempt as number,
          deadAt: toNumber(row.dead_at),
        };
        if (row.last_error !== null && row.last_error !== undefined) letter.error = row.last_error as SerializedError;
        return letter;
      });
    } catch (error) {
      throw storeError(error, `deadLetters of ${inbox}`);
    }
  }

  /**
   * Moves the oldest dead letters (all, or those of `ids`, at most `limit`) to the back of the
   * inbox with new delivery ids and attempt 0.
   */
  async redrive(inbox: string, options?: RedriveOptions): Promise<number> {
    this.#assertOpen('redrive');
    const limit = positiveLimit(options?.limit, Number.POSITIVE_INFINITY, 'redrive');
    const ids = options?.ids === undefined ? undefined : messageIds(options.ids, 'redrive');
    validateAddress(inbox, 'inbox');
    if (ids?.length === 0) return 0;
    let count: number;
    try {
      const result = await sql`with picked as (
          select id from agentrix_bus_messages where inbox = ${inbox} and state = 'dead'
          ${ids === undefined ? sql`` : sql`and message_id = any(${ids}::text[])`}
          order by requeue_rank, id
          ${limit === Number.POSITIVE_INFINITY ? sql`` : sql`limit ${limit}`}
          for update skip locked
        ), gone as (
          delete from agentrix_bus_messages m using picked where m.id = picked.id
          returning m.inbox, m.message_id, m.dedupe_key, m.external_id, m.envelope, m.created_at, m.requeue_rank, m.id
        )
        insert into agentrix_bus_messages (inbox, message_id, dedupe_key, external_id, envelope, state, created_at)
        select inbox, message_id, dedupe_key, external_id, envelope, 'ready', created_at from gone
        order by requeue_rank, id`.execute(this.#db);
      count = Number(result.numAffectedRows ?? 0n);
    } catch (error) {
      throw storeError(error, `redrive of ${inbox}`);
    }
    if (count > 0) await this.#wake(inbox, []);
    return count;
  }

  /** Deletes the dead letters of these message ids (keeping a tombstone for de-duplication keys, as `ack` does). */
  async discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number> {
    this.#assertOpen('discardDeadLetters');
    const wanted = messageIds(ids, 'discardDeadLetters');
    validateAddress(inbox, 'inbox');
    if (wanted.length === 0) return 0;
    try {
      const result = await sql<{ id: unknown }>`with done as (
          select id, (dedupe_key is not null or external_id is not null) as keep from agentrix_bus_messages
          where inbox = ${inbox} and message_id = any(${wanted}::text[]) and state = 'dead'
          for update
        ), gone as (
          delete from agentrix_bus_messages m using done where m.id = done.id and not done.keep
        ), kept as (
          update agentrix_bus_messages m set state = 'acked', last_error = null, dead_at = null
          from done where m.id = done.id and done.keep
        )
        select id from done`.execute(this.#db);
      return result.rows.length;
    } catch (error) {
      throw storeError(error, `discardDeadLetters of ${inbox}`);
    }
  }

  /** Drops every message of the inbox (unread, leased, dead) and its de-duplication keys. */
  async deleteInbox(inbox: string): Promise<void> {
    this.#assertOpen('deleteInbox');
    validateAddress(inbox, 'inbox');
    try {
      await this.#db.deleteFrom('agentrix_bus_messages').where('inbox', '=', inbox).execute();
    } catch (error) {
      throw storeError(error, `deleteInbox ${inbox}`);
    }
  }

  // ---------------------------------------------------------------- groups

  /** Creates an empty group; creating an existing group changes nothing. */
  async createGroup(group: string): Promise<void> {
    this.#assertOpen('createGroup');
    validateAddress(group, 'group');
    await this.#run(`createGroup ${group}`, () =>
      this.#db
        .insertInto('agentrix_bus_groups')
        .values({ name: group, created_at: this.#options.clock.now() })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute(),
    );
  }

  async deleteGroup(group: string): Promise<void> {
    this.#assertOpen('deleteGroup');
    validateAddress(group, 'group');
    const deleted = await this.#run(`deleteGroup ${group}`, () =>
      this.#db.deleteFrom('agentrix_bus_groups').where('name', '=', group).returning('name').execute(),
    );
    if (deleted.length === 0) throw groupNotFound(group);
  }

  /** Adds `member` (an inbox address); joining twice changes nothing. */
  async join(group: string, member: string): Promise<void> {
    this.#assertOpen('join');
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    try {
      await this.#db
        .insertInto('agentrix_bus_members')
        .values({ group_name: group, member })
        .onConflict((conflict) => conflict.columns(['group_name', 'member']).doNothing())
        .execute();
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) throw groupNotFound(group);
      throw storeError(error, `join ${group}`);
    }
  }

  /** Removes `member`; leaving a group one is not in changes nothing. */
  async leave(group: string, member: string): Promise<void> {
    this.#assertOpen('leave');
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    const result = await this.#run(`leave ${group}`, () =>
      sql<{ found: unknown }>`with found as (select name from agentrix_bus_groups where name = ${group}),
          gone as (delete from agentrix_bus_members where group_name in (select name from found) and member = ${member})
        select count(*) as found from found`.execute(this.#db),
    );
    if (toNumber(result.rows[0]?.found ?? 0) === 0) throw groupNotFound(group);
  }

  /** Members sorted by code unit order. */
  async members(group: string): Promise<string[]> {
    this.#assertOpen('members');
    validateAddress(group, 'group');
    const rows = await this.#run(`members of ${group}`, () =>
      sql<{ member: string | null }>`select m.member from agentrix_bus_groups g
        left join agentrix_bus_members m on m.group_name = g.name
        where g.name = ${group}`.execute(this.#db),
    );
    if (rows.rows.length === 0) throw groupNotFound(group);
    return rows.rows
      .map((row) => row.member)
      .filter((member): member is string => member !== null)
      .sort();
  }

  /** Group names, sorted. */
  async groups(): Promise<string[]> {
    this.#assertOpen('groups');
    const rows = await this.#run('groups', () => this.#db.selectFrom('agentrix_bus_groups').select('name').execute());
    return rows.map((row) => row.name as string).sort();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Resolves every blocked read with `[]`, clears every timer, stops listening. The database
   * stays open. Returns the same promise when called again; every other method then rejects
   * with `CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    const failures: unknown[] = [];
    this.#closing = this.#readers.close(failures).then(() => {
      const failure = closeFailure('SqlMessageBus', failures);
      if (failure !== undefined) throw failure;
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- internals

  #assertOpen(operation: string): void {
    if (this.#closed) throw busClosed('SqlMessageBus', operation);
  }

  async #run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw storeError(error, operation);
    }
  }

  /** Wakes readers of `inbox` here and elsewhere, and reports dead letters among `rows`. */
  async #wake(inbox: string, rows: readonly RequeuedRow[]): Promise<void> {
    this.#leases.reportDead(inbox, rows);
    if (rows.length === 0 || rows.some((row) => row.state === 'ready')) {
      if (this.#database.crossProcessNotify) {
        await this.#database.notify(this.#options.channel, inbox).catch((error: unknown) => {
          const serialized = serializeError(error);
          this.#options.logger.warn({ inbox, code: serialized.code, error: serialized }, 'bus notification failed');
        });
      } else this.#database.notifyLocal(this.#options.channel, inbox);
    }
  }
}

/**
 * Opens nothing: creates a {@link SqlMessageBus} on a database already migrated with
 * `storeMigrations`. Throws `INVALID_ARGUMENT` for invalid options.
 */
export function createSqlMessageBus(options: SqlMessageBusOptions): SqlMessageBus {
  return new SqlMessageBus(options);
}
