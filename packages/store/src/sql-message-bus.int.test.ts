import { messageBusContract } from '@agentrix/bus/testing';
import { describe, expect, it } from 'vitest';
import { SqlMessageBus } from './sql-message-bus.js';
import { storeMigrations } from './store-migrations.js';
import { useTestPostgres } from './testing/suite-databases.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: storeMigrations });

  messageBusContract(
    'SqlMessageBus on PostgreSQL',
    (options) => new SqlMessageBus({ database: postgres().database, ...options }),
  );

  describe('SqlMessageBus across processes', () => {
    it('wakes a reader blocked in another process through LISTEN/NOTIFY, and gives each message to one process', async () => {
      const other = await postgres().openAnother();
      const here = new SqlMessageBus({ database: postgres().database });
      const there = new SqlMessageBus({ database: other });
      const blocked = there.read('cross.inbox', { consumer: 'there', blockMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      const sent = await here.send({ from: 'host', to: 'cross.inbox', content: 'across' });
      const deliveries = await blocked;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(deliveries.map((delivery) => delivery.envelope.id)).toEqual([sent.id]);
      expect(await here.read('cross.inbox', { blockMs: 0 })).toEqual([]);
      await there.ack('cross.inbox', [deliveries[0]!.deliveryId]);

      // Several processes reading the same inbox split 200 messages without loss or duplicates.
      const total = 200;
      const received: string[] = [];
      let done = 0;
      const consume = async (bus: SqlMessageBus, consumer: string) => {
        while (done < total) {
          const batch = await bus.read('cross.work', { consumer, max: 10, blockMs: 200 });
          for (const delivery of batch) received.push(delivery.envelope.content);
          done += batch.length;
          if (batch.length > 0)
            await bus.ack(
              'cross.work',
              batch.map((delivery) => delivery.deliveryId),
            );
        }
      };
      const consumers = [consume(here, 'a'), consume(there, 'b')];
      for (let index = 0; index < total; index++)
        await here.send({ from: 'host', to: 'cross.work', content: String(index) });
      await Promise.all(consumers);
      expect(received).toHaveLength(total);
      expect(new Set(received).size).toBe(total);
      await Promise.all([here.close(), there.close()]);
    });
  });
});
