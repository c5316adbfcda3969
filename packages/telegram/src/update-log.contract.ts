import { expect, it } from 'vitest';
import type { UpdateLog } from './update-log.js';

/** What every `UpdateLog` does; run against the in-memory log and the SQL log. */
export function updateLogContract(open: () => Promise<UpdateLog>): void {
  const bot = () => `bot-${Math.random().toString(36).slice(2)}`;

  it('records an update once: a second copy is not fresh and keeps the first status', async () => {
    const log = await open();
    const botId = bot();
    const first = await log.record(botId, 10, { update_id: 10, message: { text: 'hi' } }, 1_000);
    expect(first).toMatchObject({ fresh: true, record: { status: 'received', updateId: 10, attempts: 0 } });
    await log.mark(botId, 10, 'dispatched', 2_000, { chatId: 7, agentId: 'a', threadId: 'telegram:7', attempts: 1 });
    const again = await log.record(botId, 10, { update_id: 10 }, 3_000);
    expect(again.fresh).toBe(false);
    expect(again.record).toMatchObject({
      status: 'dispatched',
      chatId: 7,
      agentId: 'a',
      threadId: 'telegram:7',
      attempts: 1,
      update: { update_id: 10, message: { text: 'hi' } },
    });
    expect((await log.record(bot(), 10, {}, 0)).fresh).toBe(true); // another bot's update 10
  });

  it('keeps an answered update answered when a late dispatched mark comes', async () => {
    const log = await open();
    const botId = bot();
    await log.record(botId, 1, {}, 0);
    await log.mark(botId, 1, 'answered', 1);
    await log.mark(botId, 1, 'dispatched', 2, { agentId: 'a', shownMessageId: 55 });
    expect(await log.get(botId, 1)).toMatchObject({ status: 'answered', agentId: 'a', shownMessageId: 55 });
    // A mark without fields keeps the ones stored.
    await log.mark(botId, 1, 'failed', 3);
    expect(await log.get(botId, 1)).toMatchObject({ status: 'failed', agentId: 'a', shownMessageId: 55, updatedAt: 3 });
  });

  it('lists the updates still received (interrupted), oldest first, and prunes finished ones', async () => {
    const log = await open();
    const botId = bot();
    for (const id of [3, 1, 2]) await log.record(botId, id, { update_id: id }, 100);
    await log.mark(botId, 2, 'answered', 200);
    await log.mark(botId, 3, 'failed', 200, { error: { name: 'AgentrixError', message: 'boom', code: 'INTERNAL' } });
    expect((await log.unhandled(botId, 10)).map((record) => record.updateId)).toEqual([1]);
    expect((await log.get(botId, 3))?.error).toMatchObject({ message: 'boom' });
    expect(await log.prune(botId, 300)).toBe(2);
    expect(await log.get(botId, 2)).toBeUndefined();
    expect(await log.get(botId, 1)).toMatchObject({ status: 'received' });
  });
}
