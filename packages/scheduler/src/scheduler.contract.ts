// Run on PGlite (scheduler.test.ts) and Postgres (scheduler.int.test.ts).
import { AgentrixError, AgentrixEvents, type SendInput } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import type { Database } from '@agentrix/store';
import { capturingLogger } from '@agentrix/store/testing';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCronError } from './errors.js';
import { SCHEDULES_TABLE } from './migrations.js';
import { nextCronRun, Scheduler } from './scheduler.js';
import { schedulerKysely } from './scheduler-tables.js';

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
      await schedulerKysely(getDatabase()).deleteFrom(SCHEDULES_TABLE).execute();
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

    it('coalesces the ticks of one paused schedule into one catch-up tick on resume; the others keep ticking', async () => {
      await scheduler.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      await scheduler.schedule({ agentId: 'b', cron: '*/15 * * * *' });
      expect(await scheduler.pause('a')).toMatchObject({ agentId: 'a', paused: true });
      for (let step = 1; step <= 8; step++) {
        clock.set(START + step * 15 * MINUTE);
        await scheduler.runDue();
      }
      expect(sent.filter((input) => input.to === 'a')).toHaveLength(0);
      expect(sent.filter((input) => input.to === 'b')).toHaveLength(8);
      clock.set(START + 125 * MINUTE);
      expect(await scheduler.resume('a')).toMatchObject({ paused: false, nextRunAt: START + 135 * MINUTE });
      const caughtUp = sent.filter((input) => input.to === 'a');
      expect(caughtUp).toHaveLength(1);
      expect(caughtUp[0]?.data).toMatchObject({ scheduledFor: START + 15 * MINUTE, firedAt: START + 125 * MINUTE });
      await expect(scheduler.pause('nobody')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
      await scheduler.close();
    });

    it('keeps one tick waiting for an agent paused in its AgentManager, not a burst, and logs what it does', async () => {
      const model = new MockLLM({ fallback: () => ({ text: 'checked' }) });
      const agentrix = await createAgentrix({ models: { default: model } });
      const logger = capturingLogger();
      const ticking = new Scheduler({ database: getDatabase(), send: agentrix, clock, logger });
      try {
        await agentrix.create({ id: 'watcher' });
        await ticking.start();
        await ticking.schedule({ agentId: 'watcher', cron: '*/15 * * * *' });
        agentrix.pause('watcher');
        for (let step = 1; step <= 8; step++) {
          clock.set(START + step * 15 * MINUTE);
          await ticking.runDue();
        }
        // Eight ticks came due while it was paused: one waits, seven were coalesced into it.
        expect((await agentrix.bus.stats('watcher')).unread).toBe(1);
        expect(logger.find(/cron tick sent/)).toHaveLength(1);
        expect(logger.find(/coalesced/)).toHaveLength(7);
        expect(logger.find(/coalesced/)[0]).toMatchObject({
          level: 'debug',
          fields: { agentId: 'watcher', scheduledFor: START + 30 * MINUTE },
        });
        agentrix.resume('watcher');
        await agentrix.waitForIdle({ timeoutMs: 10_000 });
        expect(model.requests).toHaveLength(1);
        // Taking work again: the next tick goes out as usual.
        clock.set(START + 9 * 15 * MINUTE);
        await ticking.runDue();
        expect(logger.find(/cron tick sent/)).toHaveLength(2);
        await agentrix.waitForIdle({ timeoutMs: 10_000 });
        expect(model.requests).toHaveLength(2);
      } finally {
        await ticking.close();
        await agentrix.close();
        await scheduler.close();
      }
    });

    it('reports ticks sent, coalesced and not delivered on its events', async () => {
      const events = new AgentrixEvents();
      const seen: Array<[string, unknown]> = [];
      for (const name of ['tick.sent', 'tick.coalesced', 'tick.failed'] as const) {
        events.on(name, (event) => seen.push([name, event]));
      }
      let paused = false;
      let down = false;
      const ticking = new Scheduler({
        database: getDatabase(),
        send: async () => {
          if (down) throw new AgentrixError('BUS_UNAVAILABLE', 'the bus is down');
        },
        isPaused: () => paused,
        clock,
        events,
      });
      expect(ticking.events).toBe(events);
      await ticking.start();
      await ticking.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      const at = (quarters: number) => START + quarters * 15 * MINUTE;
      clock.set(at(1));
      await ticking.runDue();
      paused = true; // the next tick waits in the inbox, the one after is coalesced into it
      for (const quarter of [2, 3]) {
        clock.set(at(quarter));
        await ticking.runDue();
      }
      paused = false;
      down = true;
      clock.set(at(4));
      await ticking.runDue();
      expect(seen).toEqual([
        ['tick.sent', { agentId: 'a', scheduledFor: at(1), firedAt: at(1) }],
        ['tick.sent', { agentId: 'a', scheduledFor: at(2), firedAt: at(2) }],
        ['tick.coalesced', { agentId: 'a', scheduledFor: at(3) }],
        [
          'tick.failed',
          { agentId: 'a', scheduledFor: at(4), error: expect.objectContaining({ code: 'BUS_UNAVAILABLE' }) },
        ],
      ]);
      await ticking.close();
      await scheduler.close();
    });

    it('logs a tick it could not deliver with the agent and the code', async () => {
      const logger = capturingLogger();
      const failing = new Scheduler({
        database: getDatabase(),
        send: async () => {
          throw new AgentrixError('BUS_UNAVAILABLE', 'the bus is down');
        },
        clock,
        logger,
      });
      await failing.start();
      await failing.schedule({ agentId: 'a', cron: '*/15 * * * *' });
      clock.set(START + 15 * MINUTE);
      await failing.runDue();
      expect(logger.find(/not delivered/)).toEqual([
        expect.objectContaining({
          level: 'warn',
          fields: expect.objectContaining({ agentId: 'a', code: 'BUS_UNAVAILABLE' }),
        }),
      ]);
      await failing.close();
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
