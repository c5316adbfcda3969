// The distiller contract: run against PGlite (distiller.test.ts) and Postgres (distiller.int.test.ts).
import { randomUUID } from 'node:crypto';
import { AgentrixError, type ChatModel } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import { FakeClock, MockLLM, type MockRequest } from '@agentrix/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistillEventMap } from './distill-events.js';
import { createDistiller, DISTILL_TAG } from './distiller.js';
import { createMemory, type Memory } from './memory.js';
import type { MemoryScope } from './scope.js';
import { withMemory } from './with-memory.js';

const HOUR = 3_600_000;
/** 2023-05-08 10:00 UTC, a Monday. */
const BASE = Date.UTC(2023, 4, 8, 10);

/**
 * A scripted small model: each turn "[n] Name: I ..." becomes the fact "Name ..." citing turn n,
 * a short "yes" after "[m] Other: You should X" becomes "Name agreed to X" citing m and n, and the
 * summary names the session's speakers, citing its first turn.
 */
export function scriptedDistiller(request: MockRequest): { text: string } {
  const lines = (request.messages.at(-1)?.content ?? '').split('\n').slice(1);
  const turns = lines.flatMap((line) => {
    const [, n, name, text] = /^\[(\d+)\] (\w+): (.*)$/.exec(line) ?? [];
    return n ? [{ n: Number(n), name: name!, text: text! }] : [];
  });
  const facts: Array<{ key: string; text: string; evidence: number[] }> = [];
  for (const [index, turn] of turns.entries()) {
    const own = /^I (.*)$/.exec(turn.text);
    if (own)
      facts.push({
        key: `${turn.name.toLowerCase()}.${own[1]!.split(' ')[0]}`,
        text: `${turn.name} ${own[1]}`,
        evidence: [turn.n],
      });
    const before = turns[index - 1];
    const suggestion = before && /^You should (.*?)\.?$/.exec(before.text);
    if (suggestion && /^yes/i.test(turn.text)) {
      facts.push({
        key: `${turn.name.toLowerCase()}.agreed`,
        text: `${turn.name} agreed to ${suggestion[1]}`,
        evidence: [before.n, turn.n],
      });
    }
  }
  const names = [...new Set(turns.map((turn) => turn.name))].join(' and ');
  return { text: JSON.stringify({ summary: { text: `${names} talked.`, evidence: [1] }, facts }) };
}

export function distillerContract(name: string, open: () => Promise<{ database: Database; dispose(): Promise<void> }>) {
  describe(`distiller on ${name}`, () => {
    let database: Database;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ database, dispose } = await open());
    }, 60_000);
    afterAll(async () => {
      await dispose();
    });

    /** Records `turns` of one conversation, each [hours after BASE, speaker, text]. */
    async function record(memory: Memory, scope: MemoryScope, turns: Array<[number, string, string]>) {
      const ids: string[] = [];
      for (const [hours, speaker, text] of turns) {
        const episode = await memory.recordEpisode({
          scope,
          occurredAt: BASE + hours * HOUR,
          messages: [{ role: 'user', name: speaker, content: text }],
        });
        ids.push(episode.id);
      }
      return ids;
    }
    const conversation: Array<[number, string, string]> = [
      [0, 'Ana', 'I adopted a beagle called Biscuit'],
      [0.01, 'Ben', 'You should try the agility classes at the park.'],
      [0.02, 'Ana', 'Yes, good idea!'],
      // Three hours later: a second session.
      [3, 'Ben', 'I started at the seed bank this week'],
      [3.01, 'Ana', 'Congratulations!'],
    ];
    const setUp = async (model: ChatModel, clock = new FakeClock(BASE + 48 * HOUR)) => {
      const memory = await createMemory({ database });
      const events: Array<{ name: keyof DistillEventMap; event: unknown }> = [];
      for (const name of ['memory.distilled', 'memory.distill-skipped'] as const) {
        memory.events.on(name, (event) => events.push({ name, event }));
      }
      const distiller = createDistiller({ memory, model, clock });
      return { memory, distiller, events, clock };
    };

    it('distils each session into facts and a summary that link to their evidence turns, once', async () => {
      const model = new MockLLM({ fallback: scriptedDistiller });
      const { memory, distiller, events } = await setUp(model);
      const scope = { userId: `user-${randomUUID()}`, agentId: 'assistant', threadId: 't1' };
      const ids = await record(memory, scope, conversation);

      const result = await distiller.distill(scope);
      expect(result).toEqual({ sessions: 2, facts: 3, summaries: 2, deferred: 0 });
      expect(model.calls).toBe(2);
      const [first] = model.requests;
      expect(first).toMatchObject({ tier: 'small', responseFormat: { type: 'json_object' } });
      expect(first!.scope).toEqual({ userId: scope.userId, agentId: 'assistant', threadId: 't1', tags: [DISTILL_TAG] });
      expect(first!.messages.at(-1)!.content).toBe(
        [
          'Session of 2023-05-08 Mon',
          '[1] Ana: I adopted a beagle called Biscuit',
          '[2] Ben: You should try the agility classes at the park.',
          '[3] Ana: Yes, good idea!',
        ].join('\n'),
      );
      // A user's facts follow the user: stored without the thread, like recordEpisode's.
      const factScope = { userId: scope.userId, agentId: 'assistant' };
      const agreed = await memory.getFact(factScope, 'ana.agreed');
      expect(agreed).toMatchObject({
        text: 'Ana agreed to try the agility classes at the park',
        tags: ['distilled'],
        evidenceEpisodeIds: [ids[1], ids[2]],
        sourceEpisodeId: ids[2],
      });
      expect((await memory.getFact(factScope, 'ben.started'))?.evidenceEpisodeIds).toEqual([ids[3]]);
      const summary = await memory.getFact(factScope, `summary.${ids[3]}`);
      expect(summary).toMatchObject({ text: '[2023-05-08 Mon] Ben and Ana talked.', tags: ['distilled', 'summary'] });
      expect(summary?.evidenceEpisodeIds).toEqual([ids[3]]);
      expect(events.map((event) => event.name)).toEqual(['memory.distilled', 'memory.distilled']);
      expect(events[0]!.event).toMatchObject({ episodes: 3, facts: 2, summary: true });

      // Again: nothing new after the cursor, no model call.
      expect(await distiller.distill(scope)).toEqual({ sessions: 0, facts: 0, summaries: 0, deferred: 0 });
      expect(model.calls).toBe(2);
      // A new turn is a new session; only it is read.
      await record(memory, scope, [[20, 'Ana', 'I finished the agility course']]);
      await distiller.distill(scope);
      expect(model.calls).toBe(3);
      expect(model.requests[2]!.messages.at(-1)!.content).toContain('[1] Ana: I finished the agility course');
      await distiller.close();
    });

    it('lets retrieval find a follow-up through its fact, within the same token budget as episodes', async () => {
      const { memory, distiller } = await setUp(new MockLLM({ fallback: scriptedDistiller }));
      const scope = { userId: `user-${randomUUID()}` };
      const ids = await record(memory, scope, conversation);
      await distiller.distill(scope);
      const found = await memory.retrieve({ scope, query: 'Did Ana agree to the agility classes?', maxTokens: 60 });
      const fact = found.facts.find((candidate) => candidate.key === 'ana.agreed');
      expect(fact?.evidenceEpisodeIds).toEqual([ids[1], ids[2]]);
      expect(found.text).toContain('- Ana agreed to try the agility classes at the park');
      expect(found.tokens).toBeLessThanOrEqual(60);
      // A budget of one line: the budget still decides.
      const small = await memory.retrieve({ scope, query: 'Did Ana agree to the agility classes?', maxTokens: 20 });
      expect(small.tokens).toBeLessThanOrEqual(20);
      await distiller.close();
    });

    it('after a turn distils only sessions that are over: an idle gap after them, or the clock past it', async () => {
      const model = new MockLLM({ fallback: scriptedDistiller });
      const clock = new FakeClock(BASE + 3.02 * HOUR);
      const { memory, distiller } = await setUp(model, clock);
      const scope = { userId: `user-${randomUUID()}` };
      await record(memory, scope, conversation);
      distiller.afterTurn(scope);
      await distiller.idle();
      // The first session is followed by a gap; the second is still going.
      expect(model.calls).toBe(1);
      await clock.advance(HOUR);
      distiller.afterTurn(scope);
      await distiller.idle();
      expect(model.calls).toBe(2);
      await distiller.close();
    });

    it('skips a session the budget refuses, says so, and distils it on the next pass', async () => {
      const model = new MockLLM({
        script: [{ error: new AgentrixError('BUDGET_EXCEEDED', 'Budget "distill" is spent for today') }],
        fallback: scriptedDistiller,
      });
      const { memory, distiller, events } = await setUp(model);
      const scope = { userId: `user-${randomUUID()}` };
      await record(memory, scope, conversation);
      expect(await distiller.distill(scope)).toEqual({ sessions: 0, facts: 0, summaries: 0, deferred: 1 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        name: 'memory.distill-skipped',
        event: { reason: 'budget', retry: true, episodes: 3, error: { code: 'BUDGET_EXCEEDED' } },
      });
      expect(await memory.getFact(scope, 'ana.agreed')).toBeUndefined();
      // The second session waited for the first: the cursor only moves in order.
      expect(model.calls).toBe(1);
      expect(await distiller.distill(scope)).toMatchObject({ sessions: 2, deferred: 0 });
      expect(await memory.getFact(scope, 'ana.agreed')).toBeDefined();
      await distiller.close();
    });

    it('sends an invalid answer back once, then skips the session for good', async () => {
      const model = new MockLLM({
        script: [
          { text: JSON.stringify({ facts: [{ key: 'ana.dog', text: 'Ana has a beagle', evidence: [9] }] }) },
          { text: 'not json' },
        ],
        fallback: scriptedDistiller,
      });
      const { memory, distiller, events } = await setUp(model);
      const scope = { userId: `user-${randomUUID()}` };
      await record(memory, scope, conversation);
      const result = await distiller.distill(scope);
      expect(model.requests[1]!.messages.at(-1)!.content).toContain(
        'evidence turn 9 does not exist: the session has 3 turns',
      );
      expect(events[0]).toMatchObject({ name: 'memory.distill-skipped', event: { reason: 'invalid', retry: false } });
      // The first session is skipped (its turns stay searchable), the second distilled.
      expect(result).toMatchObject({ sessions: 2, facts: 1, summaries: 1 });
      expect(await memory.getFact(scope, 'ana.dog')).toBeUndefined();
      expect(await memory.getFact(scope, 'ben.started')).toBeDefined();
      await distiller.close();
    });

    it('loses nothing when stopped mid-call, and a second distiller finishes the work once', async () => {
      const model = new MockLLM({ fallback: (request) => ({ ...scriptedDistiller(request), delayMs: 5_000 }) });
      const { memory, distiller } = await setUp(model);
      const scope = { userId: `user-${randomUUID()}` };
      await record(memory, scope, conversation);
      const pending = distiller.distill(scope);
      while (model.calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await distiller.close();
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await memory.getFact(scope, 'ana.agreed')).toBeUndefined();

      // Two distillers racing on the same conversation: each session is stored once.
      const fast = new MockLLM({ fallback: scriptedDistiller });
      const one = createDistiller({ memory, model: fast, clock: new FakeClock(BASE + 48 * HOUR) });
      const two = createDistiller({ memory, model: fast, clock: new FakeClock(BASE + 48 * HOUR) });
      const distilled: number[] = [];
      memory.events.on('memory.distilled', (event) => distilled.push(event.episodes));
      const results = await Promise.all([one.distill(scope), two.distill(scope)]);
      expect(results[0].sessions + results[1].sessions).toBe(2);
      expect(distilled.sort()).toEqual([2, 3]);
      await Promise.all([one.close(), two.close()]);
    });

    it('runs after the turn commit of withMemory without holding the turn, and a failing model fails no turn', async () => {
      const memory = await createMemory({ database });
      const small = new MockLLM({ fallback: (request) => ({ ...scriptedDistiller(request), delayMs: 200 }) });
      // The clock of a later day: the turn's session is over by the time the pass runs.
      const later = () => new FakeClock(Date.now() + 2 * HOUR);
      const distiller = createDistiller({ memory, model: small, clock: later() });
      const model = withMemory(new MockLLM({ fallback: { text: 'Noted!' } }), memory, { distiller });
      const scope = { agentId: 'assistant', threadId: `t-${randomUUID()}`, userId: `user-${randomUUID()}` };
      const input = { role: 'user' as const, content: 'I adopted a beagle called Biscuit' };
      await model.generate({ messages: [input], scope });
      const started = performance.now();
      await model.commitTurn({
        ...scope,
        turnId: 'turn-1',
        messageId: `message-${randomUUID()}`,
        scope,
        input,
        messages: [{ role: 'assistant', content: 'Noted!' }],
        reply: 'Noted!',
        signal: new AbortController().signal,
      });
      expect(performance.now() - started).toBeLessThan(200);
      expect(small.calls).toBeLessThanOrEqual(1);
      await distiller.idle();
      const fact = await memory.getFact({ userId: scope.userId, agentId: 'assistant' }, 'user.adopted');
      expect(fact?.evidenceEpisodeIds).toHaveLength(1);

      const failing = createDistiller({
        memory,
        model: new MockLLM({ fallback: { error: new Error('model down') } }),
        clock: later(),
      });
      const skipped: unknown[] = [];
      memory.events.on('memory.distill-skipped', (event) => skipped.push(event));
      const second = withMemory(new MockLLM({ fallback: { text: 'Ok' } }), memory, { distiller: failing });
      const next = { role: 'user' as const, content: 'I like tea' };
      await second.generate({ messages: [next], scope: { ...scope, threadId: 't2' } });
      await second.commitTurn({
        ...scope,
        threadId: 't2',
        turnId: 'turn-2',
        messageId: `message-${randomUUID()}`,
        scope,
        input: next,
        messages: [],
        reply: 'Ok',
        signal: new AbortController().signal,
      });
      await failing.idle();
      expect(skipped).toMatchObject([{ reason: 'error', retry: true, error: { message: 'model down' } }]);
      await Promise.all([distiller.close(), failing.close()]);
    });

    it('sweeps every conversation with idle sessions, and forgets the cursors of a forgotten user', async () => {
      const model = new MockLLM({ fallback: scriptedDistiller });
      const { memory, distiller } = await setUp(model);
      const users = [`user-${randomUUID()}`, `user-${randomUUID()}`];
      for (const userId of users) await record(memory, { userId }, conversation.slice(0, 3));
      const result = await distiller.sweep();
      expect(result.sessions).toBeGreaterThanOrEqual(2);
      for (const userId of users) expect(await memory.getFact({ userId }, 'ana.agreed')).toBeDefined();
      const cursors = () =>
        sql<{ n: string }>`select count(*) as n from memory_distill_cursors where user_id = ${users[0]}`.execute(
          database.kysely,
        );
      expect(Number((await cursors()).rows[0]!.n)).toBe(1);
      await memory.forgetUser(users[0]!);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(Number((await cursors()).rows[0]!.n)).toBe(0);
      await distiller.close();
    });

    it('sweeps on a background timer when sweepIntervalMs is set', async () => {
      const memory = await createMemory({ database });
      const clock = new FakeClock(BASE + 48 * HOUR);
      const distiller = createDistiller({
        memory,
        model: new MockLLM({ fallback: scriptedDistiller }),
        clock,
        sweepIntervalMs: 60_000,
      });
      const userId = `user-${randomUUID()}`;
      await record(memory, { userId }, conversation.slice(0, 3));
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(60_000);
      for (let wait = 0; wait < 200 && !(await memory.getFact({ userId }, 'ana.agreed')); wait++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await memory.getFact({ userId }, 'ana.agreed')).toBeDefined();
      await distiller.close();
      expect(clock.pendingTimers).toBe(0);
    });

    it('rejects bad options and calls after close with typed errors', async () => {
      const memory = await createMemory({ database });
      const model = new MockLLM({ fallback: scriptedDistiller });
      expect(() => createDistiller({ memory } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => createDistiller({ memory, model, idleGapMs: 0 })).toThrow(/idleGapMs as a positive integer/);
      expect(() => createDistiller({ memory, model, maxSessionTurns: 5000 })).toThrow(/at most 1000/);
      const distiller = createDistiller({ memory, model });
      expect(() => distiller.distill({ userId: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      await distiller.close();
      await distiller.close();
      expect(() => distiller.distill({ userId: 'ada' })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
      distiller.afterTurn({ userId: 'ada' });
      expect(model.calls).toBe(0);
    });
  });
}
