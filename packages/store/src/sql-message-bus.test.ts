import { messageBusContract } from '@agentrix/bus/testing';
import { AgentrixError, AgentrixEvents } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from './open-database.js';
import { SqlMessageBus } from './sql-message-bus.js';
import { SqlBusLeases } from './sql-message-bus-leases.js';
import { storeMigrations } from './store-migrations.js';
import { capturingLogger } from './testing/capturing-logger.js';
import { useTestPglite } from './testing/suite-databases.js';

const pglite = useTestPglite({ migrations: storeMigrations });

messageBusContract(
  'SqlMessageBus on PGlite',
  (options) => new SqlMessageBus({ database: pglite().database, ...options }),
);

describe('SqlMessageBus on PGlite', () => {
  it('gives a read whose blockMs runs out during its claim what the claim took, instead of giving it back', async () => {
    const clock = new FakeClock(1_000_000);
    const bus = new SqlMessageBus({ database: pglite().database, clock });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const claim = SqlBusLeases.prototype.claim;
    let claims = 0;
    // The real claim, held back once: the one the send wakes the blocked reader for.
    const held = vi.spyOn(SqlBusLeases.prototype, 'claim').mockImplementation(async function (
      this: SqlBusLeases,
      ...args: Parameters<SqlBusLeases['claim']>
    ) {
      claims++;
      if (claims === 2) await gate;
      return claim.apply(this, args);
    });
    try {
      const reading = bus.read('late-claim', { consumer: 'reader', max: 5, blockMs: 100 });
      await vi.waitFor(() => expect(claims).toBe(1)); // found nothing: the read now waits
      await new Promise((resolve) => setTimeout(resolve, 20));
      await bus.send({ from: 'host', to: 'late-claim', content: 'first' });
      await vi.waitFor(() => expect(claims).toBe(2)); // the pump's claim for the reader runs...
      await clock.advance(100); // ...when the read's blockMs runs out
      release();
      // Given back, the row would go to the next reader after rows it already took, out of order.
      expect((await reading).map((delivery) => [delivery.envelope.content, delivery.attempt])).toEqual([['first', 1]]);
      expect(await bus.stats('late-claim')).toEqual({ unread: 0, inFlight: 1, deadLetters: 0 });
    } finally {
      held.mockRestore();
      await bus.close();
    }
  });

  it('keeps unread, leased and dead messages and de-duplication keys across a restart', async () => {
    const bus = new SqlMessageBus({ database: pglite().database, leaseMs: 60_000, maxDeliveries: 1 });
    await bus.send({ from: 'host', to: 'durable', content: 'one', externalId: 'update-1' });
    await bus.send({ from: 'host', to: 'durable', content: 'two' });
    await bus.send({ from: 'host', to: 'durable', content: 'three' });
    const [first, second] = await bus.read('durable', { max: 2, blockMs: 0, consumer: 'crashing' });
    await bus.nack('durable', second!.deliveryId, { error: new Error('poison') });
    await bus.close();
    await pglite().database.close();
    // The process "restarts": a new database handle on the same directory, a new bus.
    pglite().database = await openDatabase(pglite().directory);
    await pglite().database.migrate(storeMigrations);
    const again = new SqlMessageBus({ database: pglite().database, leaseMs: 60_000 });
    expect(await again.stats('durable')).toEqual({ unread: 1, inFlight: 1, deadLetters: 1 });
    expect(await again.releaseConsumer('durable', 'crashing')).toBe(1);
    const deliveries = await again.read('durable', { blockMs: 0 });
    expect(deliveries.map((delivery) => [delivery.envelope.content, delivery.attempt, delivery.deliveryId])).toEqual([
      ['one', 2, first!.deliveryId],
      ['three', 1, expect.any(String)],
    ]);
    const duplicate = await again.send({ from: 'host', to: 'durable', content: 'one again', externalId: 'update-1' });
    expect(duplicate.content).toBe('one');
    await again.ack(
      'durable',
      deliveries.map((delivery) => delivery.deliveryId),
    );
    // The acked message keeps its external id as a tombstone.
    expect((await again.send({ from: 'host', to: 'durable', content: 'late', externalId: 'update-1' })).content).toBe(
      'one',
    );
    expect(await again.stats('durable')).toEqual({ unread: 0, inFlight: 0, deadLetters: 1 });
    expect((await again.deadLetters('durable'))[0]).toMatchObject({ error: { message: 'poison' }, attempts: 1 });
    await again.close();
  });

  it('emits message.sent and message.dead-lettered', async () => {
    const events = new AgentrixEvents();
    const seen: string[] = [];
    events.on('message.sent', ({ envelope }) => seen.push(`sent ${envelope.content}`));
    events.on('message.dead-lettered', ({ envelope, error }) =>
      seen.push(`dead ${envelope.content} ${error?.message}`),
    );
    const bus = new SqlMessageBus({ database: pglite().database, events, maxDeliveries: 1 });
    await bus.send({ from: 'host', to: 'evented', content: 'x' });
    const [delivery] = await bus.read('evented', { blockMs: 0 });
    await bus.nack('evented', delivery!.deliveryId, { error: new Error('nope') });
    expect(seen).toEqual(['sent x', 'dead x nope']);
    await bus.close();
  });

  it('logs expired leases, redeliveries and dead letters with inbox, messageId, attempt and code', async () => {
    const clock = new FakeClock(1_000_000);
    const logger = capturingLogger();
    const bus = new SqlMessageBus({ database: pglite().database, clock, logger, leaseMs: 1_000, maxDeliveries: 2 });
    const sent = await bus.send({ from: 'host', to: 'logged', content: 'x' });
    await bus.read('logged', { blockMs: 0, consumer: 'crashed' });
    clock.set(clock.now() + 1_001); // the holder never acks: its lease ends
    const [again] = await bus.read('logged', { blockMs: 0, consumer: 'survivor' });
    expect(again?.attempt).toBe(2);
    await bus.nack('logged', again!.deliveryId, { error: new AgentrixError('TOOL_FAILED', 'the tool broke') });
    expect(logger.lines.map(({ level, message, fields }) => [level, message, fields])).toEqual([
      [
        'info',
        'bus lease expired without ack; message will be redelivered',
        { inbox: 'logged', messageId: sent.id, attempt: 1 },
      ],
      ['debug', 'bus redelivery', { inbox: 'logged', messageId: sent.id, attempt: 2, consumer: 'survivor' }],
      [
        'warn',
        'bus message dead-lettered after its last delivery',
        { inbox: 'logged', messageId: sent.id, attempt: 2, attempts: 2, code: 'TOOL_FAILED' },
      ],
    ]);
    await bus.close();
  });

  it('logs a database outage met by a blocked reader, its retries and its end', async () => {
    const clock = new FakeClock(1_000_000);
    const logger = capturingLogger();
    const bus = new SqlMessageBus({ database: pglite().database, clock, logger, leaseMs: 1_000 });
    const db = pglite().database.kysely;
    const sent = await bus.send({ from: 'host', to: 'outage', content: 'held' });
    await bus.read('outage', { blockMs: 0, consumer: 'holder' });
    const blocked = bus.read('outage', { consumer: 'reader' });
    // The reader is waiting once it has armed its timer for the holder's lease.
    await vi.waitFor(() => expect(clock.nextTimerAt).toBe(1_000_000 + 1_001));
    // The table goes away under the waiting reader (as if the server failed) as the lease ends.
    await sql`alter table agentrix_bus_messages rename to agentrix_bus_messages_away`.execute(db);
    try {
      await clock.advance(1_001);
      await vi.waitFor(() => expect(logger.find(/bus read failed/)).toHaveLength(1));
    } finally {
      await sql`alter table agentrix_bus_messages_away rename to agentrix_bus_messages`.execute(db);
    }
    const [failed] = logger.find(/bus read failed/);
    expect(failed).toMatchObject({
      level: 'warn',
      fields: { inbox: 'outage', attempt: 1, delayMs: expect.any(Number), code: 'INTERNAL' },
    });
    // The retry waits out its backoff (the timer adds 1 ms), then finds the table back.
    await clock.advance((failed!.fields.delayMs as number) + 1);
    const [delivery] = await blocked;
    expect(delivery).toMatchObject({ envelope: { id: sent.id }, attempt: 2 });
    await vi.waitFor(() => expect(logger.find(/recovered/)).toHaveLength(1));
    expect(logger.find(/recovered/)[0]).toMatchObject({ level: 'info', fields: { inbox: 'outage', attempt: 1 } });
    await bus.close();
  });

  it('rejects invalid options with INVALID_ARGUMENT naming each field', () => {
    expect(() => new SqlMessageBus({ database: {} as never, leaseMs: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/database[\s\S]*leaseMs/) }),
    );
  });
});
