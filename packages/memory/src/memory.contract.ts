// The memory contract: run against PGlite (memory.test.ts) and Postgres (memory.int.test.ts).
import { randomUUID } from 'node:crypto';
import type { Embedder } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import { HashEmbedder, MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryEventMap } from './events.js';
import { createMemory } from './memory.js';
import { memoryMigrations } from './migrations.js';
import { retrievalContract } from './retrieval.contract.js';
import { statisticsDrift } from './statistics-drift.js';

const summary = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    topic: 'Colour preferences',
    conclusions: ['The user likes teal'],
    actionItems: [],
    openItems: ['Pick a theme'],
    parameters: { theme: 'dark' },
    tags: ['preferences'],
    stableFacts: [{ key: 'user.favourite_color', text: 'The user favourite color is teal' }],
    ...extra,
  });

export function memoryContract(name: string, open: () => Promise<{ database: Database; dispose(): Promise<void> }>) {
  describe(`memory on ${name}`, () => {
    let database: Database;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ database, dispose } = await open());
    }, 60_000);
    afterAll(async () => {
      await dispose();
    });
    const user = () => `user-${randomUUID()}`;

    it('updates a fact in place by key and keeps the source episode id', async () => {
      const memory = await createMemory({ database });
      const scope = { userId: user(), agentId: 'assistant' };
      const first = await memory.remember({ scope, key: 'city', text: 'Lives in Oslo', sourceEpisodeId: 'e1' });
      const second = await memory.remember({ scope, key: 'city', text: 'Lives in Bergen' });
      expect(second.id).toBe(first.id);
      expect(second.text).toBe('Lives in Bergen');
      expect(second.sourceEpisodeId).toBe('e1');
      const third = await memory.remember({ scope, key: 'city', text: 'Lives in Tromsø', sourceEpisodeId: 'e2' });
      expect(third.sourceEpisodeId).toBe('e2');
      expect((await memory.getFact(scope, 'city'))?.text).toBe('Lives in Tromsø');
    });

    it('finds facts by full-text search within the scope only', async () => {
      const memory = await createMemory({ database });
      const alice = user();
      const bob = user();
      await memory.remember({ scope: { userId: alice }, key: 'pet', text: 'Alice has a dog called Rex' });
      await memory.remember({ scope: { userId: alice }, key: 'drink', text: 'Alice drinks green tea' });
      await memory.remember({ scope: { userId: bob }, key: 'pet', text: 'Bob has a dog called Fido' });
      await memory.remember({ scope: { namespace: `team-${alice}` }, key: 'rule', text: 'Deploys need a dog sitter' });
      const { facts } = await memory.searchFacts({ userId: alice }, 'What is the name of my dog?');
      expect(facts.map((fact) => fact.text)).toEqual(['Alice has a dog called Rex']);
      const shared = await memory.searchFacts({ userId: alice, namespaces: [`team-${alice}`] }, 'dog');
      expect(shared.facts.map((fact) => fact.text).sort()).toEqual([
        'Alice has a dog called Rex',
        'Deploys need a dog sitter',
      ]);
    });

    it('fuses vector similarity with full text, embeds each text once, dedupes', async () => {
      const embedder = new HashEmbedder();
      const memory = await createMemory({ database, embedder });
      const scope = { userId: user() };
      await memory.remember({ scope, key: 'a', text: 'Prefers window seats on flights' });
      await memory.remember({ scope, key: 'b', text: 'prefers window seats on flights!' });
      await memory.remember({ scope, key: 'c', text: 'Allergic to peanuts' });
      await memory.remember({ scope, key: 'c', text: 'Allergic to peanuts' });
      const before = memory.embeddedTexts;
      expect(before).toBe(3);
      const result = await memory.searchFacts(scope, 'window seats');
      await memory.searchFacts(scope, 'window seats');
      expect(memory.embeddedTexts).toBe(before + 1);
      expect(result.vector).toBe(true);
      expect(result.facts.filter((fact) => fact.text.toLowerCase().includes('window'))).toHaveLength(1);
      // Vector similarity finds what the words alone would not rank: the same words, other forms.
      const nuts = await memory.searchFacts(scope, 'peanuts allergic?');
      expect(nuts.facts[0]?.key).toBe('c');
    });

    it('keeps full-text search working when the embedder fails, and says so', async () => {
      let failing = false;
      const memory = await createMemory({ database, embedder: new HashEmbedder({ fail: () => failing }) });
      const events: MemoryEventMap['memory.embedder-failed'][] = [];
      memory.events.on('memory.embedder-failed', (event) => events.push(event));
      const scope = { userId: user() };
      failing = true;
      await memory.remember({ scope, key: 'bike', text: 'Rides a red bicycle' });
      const { facts, vector } = await memory.searchFacts(scope, 'bicycle colour');
      expect(facts.map((fact) => fact.key)).toEqual(['bike']);
      expect(vector).toBe(false);
      expect(events.map((event) => event.operation)).toEqual(['write', 'query']);
      expect(events[0]?.error.message).toContain('failing as asked');
    });

    it('stores no embedding for a text embedded as zeros and finds nothing near a zero query', async () => {
      // A word-vector embedder's answer for text of no known word: the cosine of zeros is NaN.
      const zeros: Embedder = {
        name: 'zeros-64',
        dimensions: 64,
        embed: async (texts) => texts.map(() => Array(64).fill(0)),
      };
      const memory = await createMemory({ database, embedder: zeros });
      const scope = { userId: user() };
      await memory.remember({ scope, key: 'bike', text: 'Rides a red bicycle' });
      await memory.recordEpisode({ scope, messages: [{ role: 'user', content: 'Zzyzx qwerty' }] });
      const stored = await sql<{ embedded: boolean }>`select embedding_d64 is not null as embedded from memory_facts
        where user_id = ${scope.userId}`.execute(database.kysely);
      expect(stored.rows).toEqual([{ embedded: false }]);
      expect((await memory.searchFacts(scope, 'unicycle')).facts).toEqual([]);
      expect(await memory.searchEpisodes(scope, 'xylophone', 5)).toEqual([]);
    });

    it('truncates oversized text with a marker', async () => {
      const memory = await createMemory({ database, maxTextLength: 100 });
      const fact = await memory.remember({ scope: { userId: user() }, key: 'long', text: 'x'.repeat(500) });
      expect(fact.text.length).toBeLessThanOrEqual(100);
      expect(fact.truncated).toBe(true);
      expect(fact.text).toMatch(/…\[truncated \d+ characters\]$/);
    });

    it('writes a structured episode with a small-tier JSON call and distills its stable facts', async () => {
      const model = new MockLLM({ script: [{ text: summary() }] });
      const memory = await createMemory({ database, model });
      const scope = { userId: user(), agentId: 'assistant' };
      const episode = await memory.recordEpisode({
        scope,
        messages: [
          { role: 'user', content: 'My favourite colour is teal.' },
          { role: 'assistant', content: 'Noted!' },
        ],
      });
      expect(episode.unstructured).toBe(false);
      expect(episode.summary?.topic).toBe('Colour preferences');
      expect(episode.tags).toEqual(['preferences']);
      expect(model.lastRequest?.tier).toBe('small');
      expect(model.lastRequest?.responseFormat).toEqual({ type: 'json_object' });
      const fact = await memory.getFact(scope, 'user.favourite_color');
      expect(fact?.sourceEpisodeId).toBe(episode.id);
      const found = await memory.searchEpisodes(scope, 'theme colour');
      expect(found.map((item) => item.id)).toEqual([episode.id]);
    });

    it('retries an invalid summary once with the error, then stores plain text flagged unstructured', async () => {
      const fixed = new MockLLM({ script: [{ text: '{"topic": 5}' }, { text: summary() }] });
      const memory = await createMemory({ database, model: fixed });
      const invalid: string[] = [];
      memory.events.on('memory.summary-invalid', (event) => invalid.push(event.error));
      const scope = { userId: user() };
      const messages = [{ role: 'user' as const, content: 'Remember: deploy window is Friday 18:00' }];
      const repaired = await memory.recordEpisode({ scope, messages });
      expect(repaired.unstructured).toBe(false);
      expect(fixed.requests[1]?.messages.at(-1)?.content).toContain('topic');
      expect(invalid).toHaveLength(1);

      const broken = new MockLLM({ script: [{ text: 'not json' }, { text: '{"conclusions": []}' }] });
      const plain = await (await createMemory({ database, model: broken })).recordEpisode({ scope, messages });
      expect(plain.unstructured).toBe(true);
      expect(plain.summary).toBeUndefined();
      expect(plain.text).toContain('deploy window is Friday 18:00');
      expect(broken.calls).toBe(2);
    });

    it('returns the most recent and the most relevant episodes', async () => {
      let now = 1_000;
      const memory = await createMemory({ database, clock: { now: () => now++, setTimeout, clearTimeout } as never });
      const scope = { userId: user() };
      await memory.recordEpisode({ scope, messages: [{ role: 'user', content: 'We chose Postgres for the ledger' }] });
      for (let index = 0; index < 5; index++) {
        await memory.recordEpisode({ scope, messages: [{ role: 'user', content: `small talk number ${index}` }] });
      }
      const recent = await memory.recentEpisodes(scope, 2);
      expect(recent.map((episode) => episode.text)).toEqual(['user: small talk number 4', 'user: small talk number 3']);
      // In the order said: the match, the short turn after it (its follow-up), the most recent.
      const said = ['user: We chose Postgres for the ledger', 'user: small talk number 0', 'user: small talk number 4'];
      // A budget for those lines only (a token a newline): the turns around the match come last.
      const maxTokens = ['Earlier conversations:', '[1970-01-01 Thu]', ...said].reduce(
        (sum, line) => sum + memory.countTokens(line) + 1,
        0,
      );
      const query = 'which database for the ledger?';
      const retrieved = await memory.retrieve({ scope, query, recentEpisodes: 1, maxTokens });
      expect(retrieved.episodes.map((episode) => episode.text)).toEqual(said);
      expect(retrieved.text).toContain('Earlier conversations:');
      // With room, the rest of the conversation around the match fills it.
      const wide = await memory.retrieve({ scope, query, recentEpisodes: 1 });
      expect(wide.episodes).toHaveLength(6);
    });

    // The search statistics, a small scope's search and the read of the recent episodes with the
    // matches' replies are the same text for every scope of a shape: prepared once
    // (Database.executePrepared), each executed again by the next retrieve.
    it("runs a retrieve's statistics, search and recent-and-replies read as statements prepared once", async () => {
      const memory = await createMemory({ database });
      const scopes = [{ userId: user() }, { userId: user() }];
      for (const scope of scopes) {
        await memory.recordEpisodes([
          { scope, messages: [{ role: 'user', content: 'We chose Postgres for the ledger' }] },
          { scope, messages: [{ role: 'user', content: 'Sounds good' }] },
        ]);
      }
      // On a pool, the statements of one caller after another run on the connection last released.
      const executions = async () =>
        new Map(
          (
            await sql<{ statement: string; executions: number }>`select statement,
              (generic_plans + custom_plans)::int as executions from pg_prepared_statements
              where statement like '%memory_scope_statistics%' or statement like '%of_id%'
                or statement like '%ts_filter(setweight(%'`.execute(database.kysely)
          ).rows.map((row) => [row.statement, row.executions]),
        );
      const before = await executions();
      for (const scope of scopes) {
        const retrieved = await memory.retrieve({ scope, query: 'which database for the ledger?' });
        expect(retrieved.episodes.map((episode) => episode.text)).toContain('user: We chose Postgres for the ledger');
      }
      const after = await executions();
      const kind = (statement: string) =>
        statement.includes('of_id') ? 'replies' : statement.includes('ts_filter(setweight(') ? 'search' : 'statistics';
      // A user's scope is small: its searches are prepared too (matched row by row, whatever the
      // words). Each statement the retrieves ran was prepared before or by the first, and run again.
      const ran = [...after]
        .filter(([statement, count]) => count !== (before.get(statement) ?? 0))
        .map(([statement, count]) => [kind(statement), count - (before.get(statement) ?? 0)] as const);
      expect(new Set(ran.map(([name]) => name))).toEqual(new Set(['replies', 'search', 'statistics']));
      expect(ran.map(([, count]) => count)).toEqual(ran.map(() => 2));
    });

    // A live conversation records a turn at a time: the same one-row insert every time, prepared
    // once (parsed and planned once, not at every turn).
    it('records a turn at a time with one statement prepared once', async () => {
      const memory = await createMemory({ database });
      const scope = { userId: user() };
      const inserts = async () =>
        (
          await sql<{ executions: number }>`select coalesce(sum(generic_plans + custom_plans), 0)::int as executions
            from pg_prepared_statements where statement like 'insert into memory_episodes%'`.execute(database.kysely)
        ).rows[0]!.executions;
      await memory.recordEpisode({ scope, messages: [{ role: 'user', content: 'first turn' }] });
      const before = await inserts();
      expect(before).toBeGreaterThan(0);
      for (const content of ['second turn', 'third turn', 'fourth turn']) {
        await memory.recordEpisode({ scope, messageId: content, messages: [{ role: 'user', content }] });
      }
      expect(await inserts()).toBe(before + 3);
      // The same message again writes nothing and returns the stored episode.
      const again = await memory.recordEpisode({
        scope,
        messageId: 'third turn',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(again.text).toBe('user: third turn');
      expect((await memory.recentEpisodes(scope, 10)).map((episode) => episode.text)).toEqual([
        'user: fourth turn',
        'user: third turn',
        'user: second turn',
        'user: first turn',
      ]);
    });

    it('forgets everything about a user in one call', async () => {
      const memory = await createMemory({ database });
      const userId = user();
      const other = user();
      await memory.remember({ scope: { userId, agentId: 'a' }, key: 'k', text: 'one' });
      await memory.remember({ scope: { userId, namespace: 'team' }, key: 'k', text: 'two' });
      await memory.recordEpisode({ scope: { userId }, messages: [{ role: 'user', content: 'hello' }] });
      await memory.remember({ scope: { userId: other }, key: 'k', text: 'three' });
      expect(await memory.forgetUser(userId)).toEqual({ facts: 2, episodes: 1 });
      expect(await memory.recentEpisodes({ userId })).toEqual([]);
      expect((await memory.getFact({ userId: other }, 'k'))?.text).toBe('three');
    });

    it('records an episode once per (agent, message), also when two writers race', async () => {
      const model = new MockLLM({ fallback: { text: summary() } });
      const memory = await createMemory({ database, model });
      const scope = { userId: user(), agentId: 'assistant', threadId: 'chat-1' };
      const messages = [{ role: 'user' as const, content: 'My favourite colour is teal.' }];
      const messageId = `m-${randomUUID()}`;
      const written: string[] = [];
      memory.events.on('memory.episode-written', (event) => written.push(event.id));
      const first = await memory.recordEpisode({ scope, messages, messageId });
      const again = await memory.recordEpisode({ scope, messages, messageId });
      expect(again).toEqual(first);
      expect(first).toMatchObject({ messageId, scope });
      expect(model.calls).toBe(1); // the second call asked no model
      const raced = `m-${randomUUID()}`;
      const [one, two] = await Promise.all([
        memory.recordEpisode({ scope, messages, messageId: raced }),
        memory.recordEpisode({ scope, messages, messageId: raced }),
      ]);
      expect(two.id).toBe(one.id);
      const other = await memory.recordEpisode({ scope: { ...scope, agentId: 'other' }, messages, messageId });
      expect(other.id).not.toBe(first.id);
      expect(written).toEqual([first.id, one.id, other.id]);
      const episodes = await memory.recentEpisodes({ userId: scope.userId, agentId: 'assistant' }, 10);
      expect(episodes.map((episode) => episode.messageId).sort()).toEqual([messageId, raced].sort());
      await expect(memory.recordEpisode({ scope, messages, messageId: '' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/messageId of 1 to 256 characters/),
      });
    });

    it('keeps memories without a user in their thread; a user’s follow the user into every thread', async () => {
      const memory = await createMemory({ database });
      const agentId = `bot-${randomUUID()}`;
      const ada = user();
      await memory.remember({ scope: { agentId, threadId: 'chat-a' }, key: 'pet', text: 'Has a cat called Tom' });
      await memory.remember({ scope: { agentId, threadId: 'chat-b' }, key: 'pet', text: 'Has a cat called Kit' });
      await memory.remember({
        scope: { agentId, userId: ada, threadId: 'chat-a' },
        key: 'car',
        text: 'Drives a cat-yellow van',
      });
      await memory.remember({ scope: { agentId }, key: 'rule', text: 'The cat policy: no cats in the office' });
      const search = async (scope: { userId?: string; threadId?: string }) =>
        (await memory.searchFacts({ agentId, ...scope }, 'cat')).facts.map((fact) => fact.text).sort();
      expect(await search({ threadId: 'chat-a' })).toEqual([
        'Has a cat called Tom',
        'The cat policy: no cats in the office',
      ]);
      expect(await search({ threadId: 'chat-b' })).toEqual([
        'Has a cat called Kit',
        'The cat policy: no cats in the office',
      ]);
      expect(await search({ userId: ada, threadId: 'chat-b' })).toEqual([
        'Drives a cat-yellow van',
        'Has a cat called Kit',
        'The cat policy: no cats in the office',
      ]);
      expect(await search({})).toEqual(['The cat policy: no cats in the office']);
      expect((await memory.getFact({ agentId, threadId: 'chat-b' }, 'pet'))?.text).toBe('Has a cat called Kit');
      await expect(memory.searchFacts({ agentId, threadId: '' }, 'cat')).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/threadId/),
      });
    });

    it('forgets one thread of an agent: its episodes, the facts they taught, its thread-only facts', async () => {
      const model = new MockLLM({ fallback: { text: summary() } });
      const memory = await createMemory({ database, model });
      const agentId = `agent-${randomUUID()}`;
      const ada = user();
      const said = [{ role: 'user' as const, content: 'My favourite colour is teal.' }];
      await memory.recordEpisode({ scope: { agentId, userId: ada, threadId: 't1' }, messages: said, messageId: 'm1' });
      await memory.remember({ scope: { agentId, threadId: 't1' }, key: 'topic', text: 'Planning a trip' });
      await memory.recordEpisode({ scope: { agentId, threadId: 't2' }, messages: said, messageId: 'm2' });
      // The user's fact follows the user (stored without the thread) but was taught by t1's episode.
      expect((await memory.getFact({ agentId, userId: ada }, 'user.favourite_color'))?.text).toContain('teal');
      expect(await memory.forgetThread({ agentId, threadId: 't1' })).toEqual({ facts: 2, episodes: 1 });
      expect(await memory.getFact({ agentId, userId: ada }, 'user.favourite_color')).toBeUndefined();
      expect((await memory.getFact({ agentId, threadId: 't2' }, 'user.favourite_color'))?.text).toContain('teal');
      expect((await memory.recentEpisodes({ agentId, threadId: 't2' }, 10)).map((e) => e.messageId)).toEqual(['m2']);
      expect(await memory.forgetThread({ agentId, threadId: 't1' })).toEqual({ facts: 0, episodes: 0 });
      await expect(memory.forgetThread({ agentId } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it("keeps BM25's statistics of every scope equal to its rows through writes, updates, deletes and races", async () => {
      const model = new MockLLM({ fallback: { text: summary() } });
      const memory = await createMemory({ database, model });
      const plain = await createMemory({ database, migrate: false });
      const agentId = `agent-${randomUUID()}`;
      const ada = user();
      const said = (content: string) => [{ role: 'user' as const, content }];
      const drift = () => statisticsDrift(database);
      await plain.recordEpisodes(
        Array.from({ length: 30 }, (_, index) => ({
          scope: { agentId, threadId: `t${index % 3}` },
          messageId: `import-${index}`,
          messages: said(`The kayak trip ${index} on the lake was calm, the lake was cold.`),
        })),
      );
      // With a summary model: an episode and its fact, then the same fact key again (an update).
      await memory.recordEpisode({
        scope: { agentId, userId: ada, threadId: 't1' },
        messages: said('teal'),
        messageId: 'm1',
      });
      await memory.recordEpisode({
        scope: { agentId, userId: ada, threadId: 't2' },
        messages: said('teal'),
        messageId: 'm2',
      });
      await memory.remember({ scope: { userId: ada }, key: 'city', text: 'Lives in Oslo by the fjord' });
      await memory.remember({ scope: { userId: ada }, key: 'city', text: 'Lives in Bergen now' });
      expect(await drift()).toBe(0);
      // Two writers of one scope at once, the same words (the same statistics rows) in both.
      await Promise.all(
        [0, 1].map((writer) =>
          plain.recordEpisodes(
            Array.from({ length: 20 }, (_, index) => ({
              scope: { agentId, threadId: 't0' },
              messageId: `race-${writer}-${index}`,
              messages: said(`Racing writer ${writer}: the kayak and the lake again, turn ${index}.`),
            })),
          ),
        ),
      );
      expect(await drift()).toBe(0);
      const found = await plain.searchEpisodes({ agentId, threadId: 't0' }, 'racing kayak', 3);
      expect(found[0]?.text).toMatch(/Racing writer/);
      await memory.forgetThread({ agentId, threadId: 't1' });
      await memory.forgetUser(ada);
      expect(await drift()).toBe(0);
      // A scope emptied by deletes leaves no statistics behind.
      await memory.forgetThread({ agentId, threadId: 't2' });
      const left = await sql<{ rows: number }>`select count(*)::int as rows from memory_scope_statistics
        where agent_id = ${agentId} and thread_id = 't2'`.execute(database.kysely);
      expect(left.rows[0]!.rows).toBe(0);
      expect(await drift()).toBe(0);
    });

    retrievalContract(
      () => database,
      () => new HashEmbedder(),
    );

    it('upgrades a database of the first migration, keeping its rows', async () => {
      const fresh = await open();
      try {
        await fresh.database.migrate(memoryMigrations().slice(0, 1));
        await sql`insert into memory_facts (id, user_id, key, text, created_at, updated_at)
          values ('f1', 'ada', 'city', 'Lives in Oslo', 1, 1)`.execute(fresh.database.kysely);
        await sql`insert into memory_episodes (id, user_id, text, created_at)
          values ('e1', 'ada', 'We talked about Oslo', 1)`.execute(fresh.database.kysely);
        const memory = await createMemory({ database: fresh.database });
        expect((await memory.remember({ scope: { userId: 'ada' }, key: 'city', text: 'Lives in Bergen' })).id).toBe(
          'f1',
        );
        const episodes = await memory.recentEpisodes({ userId: 'ada', threadId: 'any' });
        expect(episodes.map((episode) => [episode.id, episode.scope])).toEqual([['e1', { userId: 'ada' }]]);
        // Event time starts as the write time.
        expect(episodes[0]).toMatchObject({ occurredAt: 1, createdAt: 1 });
        // Rows written before the search statistics existed are counted by their migration.
        expect((await memory.searchEpisodes({ userId: 'ada' }, 'Oslo')).map((episode) => episode.id)).toEqual(['e1']);
        expect((await memory.searchFacts({ userId: 'ada' }, 'Bergen')).facts.map((fact) => fact.id)).toEqual(['f1']);
      } finally {
        await fresh.dispose();
      }
    }, 20_000); // opens a second database and runs every migration on it
  });
}
