// Run on PGlite (scheduler.test.ts) and Postgres (scheduler.int.test.ts).
import type { SendInput } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import { FakeClock } from '@agentrix/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCronError } from './errors.js';
import { SCHEDULES_TABLE } from './migrations.js';
import { nextCronRun, Scheduler } from './scheduler.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1, 0, 0, 0);

export function schedulerContract(name: string, getDatabase: () => Database): void {
  describe(`Scheduler on ${name}`, () => {
    let clock: FakeClock;
    let sent: SendInput[];
    let scheduler: Scheduler;
    beforeEach(async () => {
      clock = new FakeClock(START);
      sent = [];
      await getDatabase().kysely.deleteFrom(SCHEDULES_TABLE).execute();
      scheduler = new Scheduler({
        database: getDatabase(),
        send: async (input) => void sent.push(input),
        clock,
        minIntervalMs: MINUTE,
        maxIntervalMs: 60 * MINUTE,
      });
      await scheduler.start();
    });

    it('sends a tick to the agent every 15 minutes', async () => {
      const record = await scheduler.schedule({ agentId: 'researcher', cron: '*/15 * * * *' });
      expect(record.nextRunAt).toBe(START + 15 * MINUTE);
      expect(clock.nextTimerAt).toBe(START + 15 * MINUTE);
      await clock.advance(15 * MINUTE);
      await scheduler.runDue(); // let the firing that the timer started finish
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        to: 'researcher',
        from: 'cron',
        type: 'tick',
        content: 'tick',
        data: { scheduledFor: START + 15 * MINUTE, firedAt: START + 15 * MINUTE },
      });
      expect((await scheduler.get('researcher'))?.nextRunAt).toBe(START + 30 * MINUTE);
      await scheduler.close();
    });

    it('rejects an invalid cron with a typed error quoting it', async () => {
      const attempt = scheduler.schedule({ agentId: 'a', cron: '*/15 * * *x *' });
      await expect(attempt).rejects.toBeInstanceOf(InvalidCronError);
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', expression: '*/15 * * *x *' });
      await expect(attempt).rejects.toThrow('"*/15 * * *x *"');
      expect(() => nextCronRun('', undefined, 0)).toThrow(InvalidCronError);
      await scheduler.close();
    });

    it('sends a missed tick once after downtime, then follows the cron from now', async () => {
      await scheduler.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      await scheduler.close();
      clock.set(START + 10 * 60 * MINUTE + 5 * MINUTE); // 10 h later: 40 ticks missed
      const restarted = new Scheduler({ database: getDatabase(), send: async (input) => void sent.push(input), clock });
      await restarted.start();
      expect(sent).toHaveLength(1);
      expect(sent[0]?.data).toMatchObject({ scheduledFor: START + 15 * MINUTE, firedAt: clock.now() });
      expect((await restarted.get('a'))?.nextRunAt).toBe(START + 10 * 60 * MINUTE + 15 * MINUTE);
      await restarted.close();
    });

    it('lets an agent ask to be woken sooner or later, within bounds', async () => {
      await scheduler.schedule({ agentId: 'a', cron: '0 * * * *' });
      expect(await scheduler.wakeIn('a', 5_000)).toBe(START + MINUTE); // clamped up to min
      expect(await scheduler.wakeIn('a', 10 * 60 * MINUTE)).toBe(START + 60 * MINUTE); // clamped down to max
      expect(await scheduler.wakeIn('a', 5 * MINUTE)).toBe(START + 5 * MINUTE);
      clock.set(START + 5 * MINUTE);
      await scheduler.runDue();
      expect(sent).toHaveLength(1);
      expect((await scheduler.get('a'))?.nextRunAt).toBe(START + 60 * MINUTE); // back on the cron
      await expect(scheduler.wakeIn('nobody', MINUTE)).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
      await scheduler.close();
    });

    it('pauses and resumes everything; a tick due while paused is sent once on resume', async () => {
      await scheduler.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      await scheduler.schedule({ agentId: 'b', cron: '*/15 * * * *' });
      await scheduler.pauseAll();
      expect(clock.pendingTimers).toBe(0);
      clock.set(START + 120 * MINUTE);
      await scheduler.runDue();
      expect(sent).toHaveLength(0);
      expect((await scheduler.list()).every((schedule) => schedule.paused)).toBe(true);
      await scheduler.resumeAll();
      expect(sent.map((input) => input.to).sort()).toEqual(['a', 'b']);
      await scheduler.close();
    });

    it('accepts a MessageBus-like target and sends each tick once across two schedulers', async () => {
      await scheduler.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      const other = new Scheduler({
        database: getDatabase(),
        send: { send: async (input) => void sent.push(input) },
        clock,
      });
      await other.start();
      clock.set(START + 15 * MINUTE);
      await Promise.all([scheduler.runDue(), other.runDue()]);
      expect(sent).toHaveLength(1);
      await other.close();
      await scheduler.close();
      await expect(scheduler.schedule({ agentId: 'x', cron: '* * * * *' })).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
