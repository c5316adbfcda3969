// Retrieval for long conversations: part of the memory contract (PGlite and Postgres).
import { randomUUID } from 'node:crypto';
import type { Embedder } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createMemory, type Memory } from './memory.js';

const MAY_8 = Date.UTC(2023, 4, 8, 13, 0);
const MINUTE = 60_000;

/** Imports `turns` (`Name: text`) one minute apart from `from`, as a history with its own dates. */
async function importTurns(memory: Memory, userId: string, turns: readonly string[], from = MAY_8, threadId?: string) {
  const episodes = [];
  for (const [index, turn] of turns.entries()) {
    const [name, content] = turn.split(': ') as [string, string];
    episodes.push(
      await memory.recordEpisode({
        scope: { userId, ...(threadId ? { threadId } : {}) },
        occurredAt: from + index * MINUTE,
        messages: [{ role: 'user', name, content }],
      }),
    );
  }
  return episodes;
}

const fillers = (count: number, make: (index: number) => string) => Array.from({ length: count }, (_, i) => make(i));

/** The budget a prompt of exactly these lines takes, as the prompt filler counts it (a token a newline). */
const budgetOf = (memory: Memory, lines: readonly string[]) =>
  lines.reduce((sum, line) => sum + memory.countTokens(line) + 1, 0);

/** `embedder`: a 64-dimension embedder (`HashEmbedder` of @agentrix/testing in the memory contract). */
export function retrievalContract(database: () => Database, embedder: () => Embedder): void {
  const user = () => `user-${randomUUID()}`;

  it('ranks by BM25: a rare word beats a name said everywhere and long turns that repeat common words', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const turns = fillers(
      30,
      (i) =>
        `Caroline: Caroline here, the workshop was busy again, Caroline stayed at the workshop late, workshop day ${i}.`,
    );
    turns.splice(17, 0, 'Melanie: I went to a pottery workshop.');
    await importTurns(memory, userId, turns);
    const found = await memory.searchEpisodes({ userId }, 'When did Caroline go to the pottery workshop?', 3);
    expect(found[0]?.text).toBe('Melanie: I went to a pottery workshop.');
  });

  it('finds the past tense of a did question\'s irregular verb: "did Sam take up" matches "I took up"', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const turns = fillers(20, (i) => `Ana: The weather was grey again today, day ${i}.`);
    // Three turns say "sport" and "gym": without "took", one of them outranks the answer.
    for (const at of [3, 9, 15]) turns[at] = 'Sam: Someone at the gym was going on about sport all morning.';
    turns[12] = 'Sam: I took up rock climbing at the gym near the station.';
    await importTurns(memory, userId, turns);
    const [best] = await memory.searchEpisodes({ userId }, 'What sport did Sam take up at the gym?', 1);
    expect(best?.text).toBe('Sam: I took up rock climbing at the gym near the station.');
    // Facts too: written first, the answer loses the tie on "Sam" to the newer ones without "took".
    const scope = { userId };
    await memory.remember({ scope, key: 'climbing', text: 'Sam took up rock climbing in May.' });
    await memory.remember({ scope, key: 'tea', text: 'Sam drinks green tea in the morning.' });
    await memory.remember({ scope, key: 'home', text: 'Sam lives near the station.' });
    const { facts } = await memory.searchFacts(scope, 'What did Sam take up?', 1);
    expect(facts[0]?.key).toBe('climbing');
    const retrieved = await memory.retrieve({ scope, query: 'What did Sam take up?', facts: 1, maxTokens: 1000 });
    expect(retrieved.facts.map((fact) => fact.key)).toEqual(['climbing']);
  });

  it('finds the past of a perfect question\'s irregular participle: "has Sam seen" matches "we saw"', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const turns = fillers(20, (i) => `Ana: The weather was grey again today, day ${i}.`);
    // Three turns say "bands" and "live": without "saw", one of them outranks the answer.
    for (const at of [3, 9, 15]) turns[at] = 'Sam: My cousin never stops talking about bands that play live.';
    turns[12] = 'Sam: We saw two bands live at the harbour festival, loud and brilliant.';
    await importTurns(memory, userId, turns);
    const [best] = await memory.searchEpisodes({ userId }, 'What bands has Sam seen live?', 1);
    expect(best?.text).toBe('Sam: We saw two bands live at the harbour festival, loud and brilliant.');
  });

  it('keeps the answer with the question that matched, however few words it shares', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const answer =
      'Jo: "Small Things Like These", short but it stays with you for days, I keep thinking about the ending and the snow on the quay.';
    const turns = fillers(
      30,
      (i) => `${i % 2 ? 'Jo' : 'Ana'}: I was reading about the bus strike in the paper again, day ${i}.`,
    );
    turns.splice(12, 0, 'Ana: What are you reading these days, Jo?', answer);
    await importTurns(memory, userId, turns);
    // The matches fill the budget: an answer longer than a short reply is kept only with its question.
    const found = await memory.retrieve({ scope: { userId }, query: 'What has Jo been reading?', maxTokens: 150 });
    expect(found.episodes.map((episode) => episode.text)).toContain(answer);
    expect(found.tokens).toBeLessThanOrEqual(150);
  });

  it('keeps no long answer with a matched question when the question asks for a preference', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    // A statement of habit that shares no word with the question, said the day before.
    const habit = 'Ana: I love making things with my hands, I could do it all day.';
    await importTurns(memory, userId, [habit], MAY_8 - 86_400_000, 'evening');
    const question = 'Ben: Have you ever tried pottery, Ana?';
    // Longer than a short reply and than the statement, shorter than the statement and the other
    // matches together.
    const answer =
      'Ana: Once, years ago, at a street fair in the old town with my cousin and her two kids, and it rained all afternoon.';
    const others = ['Ben: The pottery shop on Elm Street shut.', 'Ben: My aunt sells pottery online now.'];
    // Long turns after the other matches: longer replies, placed after every match.
    const long = (i: number) =>
      `Ana: The bus was late again this morning, the third time this week, and the driver said the route is changing, stop ${i}.`;
    await importTurns(memory, userId, [
      ...fillers(10, (i) => `${i % 2 ? 'Ana' : 'Ben'}: The bus was late again, stop ${i}.`),
      question,
      answer,
      others[0]!,
      long(1),
      others[1]!,
      long(2),
    ]);
    // The budget of the matches and the statement: kept with the question, the answer would take
    // the statement's place (a question about a fact keeps it: the test above).
    const maxTokens = budgetOf(memory, [
      'Earlier conversations:',
      '[2023-05-07 Sun]',
      habit,
      '[2023-05-08 Mon]',
      question,
      ...others,
    ]);
    expect(memory.countTokens(answer)).toBeGreaterThan(Math.max(24, memory.countTokens(habit)));
    const found = await memory.retrieve({
      scope: { userId },
      query: 'Would Ana enjoy a pottery class?',
      maxTokens,
      recentEpisodes: 0,
    });
    expect(found.episodes.map((episode) => episode.text)).toEqual(expect.arrayContaining([habit, question, ...others]));
    expect(found.tokens).toBeLessThanOrEqual(maxTokens);
  });

  it('prints when a turn was said, one date header per day in the order said, and orders recency by it', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const say = (name: string, content: string, occurredAt: Date | number) =>
      memory.recordEpisode({ scope: { userId }, occurredAt, messages: [{ role: 'user', name, content }] });
    // Written out of order: a history imported backwards.
    await say('Ana', 'The kiln finally fired my blue vase.', MAY_8 + MINUTE);
    await say('Ben', 'How did the kiln go?', MAY_8);
    await say('Ana', 'I signed up for kiln lessons.', new Date(MAY_8 - 86_400_000));
    const found = await memory.retrieve({ scope: { userId }, query: 'kiln', recentEpisodes: 0 });
    expect(found.text).toBe(
      [
        'Earlier conversations:',
        '[2023-05-07 Sun]',
        'Ana: I signed up for kiln lessons.',
        '[2023-05-08 Mon]',
        'Ben: How did the kiln go?',
        'Ana: The kiln finally fired my blue vase.',
      ].join('\n'),
    );
    expect(found.episodes.map((episode) => episode.occurredAt)).toEqual([MAY_8 - 86_400_000, MAY_8, MAY_8 + MINUTE]);
    const recent = await memory.recentEpisodes({ userId }, 1);
    expect(recent[0]?.text).toBe('Ana: The kiln finally fired my blue vase.');
    await expect(say('Ana', 'Tomorrow I fly.', Date.now() + 86_400_000)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/later than now/),
    });
    await expect(say('Ana', 'Bad time.', Number.NaN)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await memory.recentEpisodes({ userId }, 10)).toHaveLength(3);
  });

  it('keeps the short reply with the turn that matched, not the turn before it', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    await importTurns(memory, userId, [
      // Long turns: a neighbour is kept for its meaning only when it is short.
      ...fillers(
        10,
        (i) =>
          `Ana: We talked about the lake house, the summer plans and the chores for the weekend and the week after, part ${i}.`,
      ),
      // Short, and said just before the match: the old rule kept it too, spending the budget.
      'Ana: Any ideas for me?',
      'Ben: You should try kayaking on the lake, it is calm in the mornings.',
      "Ana: Yeah, good idea! I'll give it a try.",
      ...fillers(10, (i) => `Ben: Long week at work, nothing much to report, day ${i}.`),
    ]);
    const said = [
      'Ben: You should try kayaking on the lake, it is calm in the mornings.',
      "Ana: Yeah, good idea! I'll give it a try.",
    ];
    // A budget for the match and one more line: the reply, not the turn before.
    const maxTokens = budgetOf(memory, ['Earlier conversations:', '[2023-05-08 Mon]', ...said]);
    const found = await memory.retrieve({ scope: { userId }, query: 'kayaking', recentEpisodes: 0, maxTokens });
    expect(found.episodes.map((episode) => episode.text)).toEqual(said);
    // The turn before comes with what the budget has left (the conversation around the match).
    const wide = await memory.retrieve({ scope: { userId }, query: 'kayaking', recentEpisodes: 0, maxTokens: 200 });
    expect(wide.episodes.map((episode) => episode.text)).toEqual(
      expect.arrayContaining(['Ana: Any ideas for me?', ...said]),
    );
  });

  // The searches return a few columns of each row; the episodes come back whole all the same,
  // a match placed past the rows whose replies were read (the first is too long) included.
  it('returns whole episodes, a match placed past the rows whose replies were read included', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const record = (content: string, index: number) =>
      memory.recordEpisode({
        scope: { userId, threadId: 'studio' },
        messageId: `m-${index}`,
        occurredAt: MAY_8 + index * MINUTE,
        tags: ['craft'],
        messages: [{ role: 'user', name: 'Ana', content }],
      });
    const short = await record('I sold my pottery at the fair.', 0);
    // Said 80 times in one distinct word: the best BM25 match, and longer than the budget.
    const long = await record(Array.from({ length: 80 }, () => 'pottery').join(' '), 1);
    expect(await memory.searchEpisodes({ userId }, 'pottery', 5)).toEqual([long, short]);
    const found = await memory.retrieve({ scope: { userId }, query: 'pottery', recentEpisodes: 0, maxTokens: 40 });
    expect(found.episodes).toEqual([short]);
  });

  it('says a line once: the copies of a turn said again and again leave room for the one that answers', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    // A farewell at the end of every day, short and sharing the question's one common word.
    for (let day = 0; day < 10; day++) {
      await importTurns(
        memory,
        userId,
        ['Ana: Long day at the office, the printer jammed twice again.', 'Ben: Bye! Take care.'],
        MAY_8 - (10 - day) * 86_400_000,
      );
    }
    await importTurns(memory, userId, [
      'Ben: Take the kids to the science museum, it is free on the first Friday of the month.',
      'Ana: Haha okay, you convinced me.',
    ]);
    const found = await memory.retrieve({
      scope: { userId },
      query: 'Where did Ana decide to take them?',
      recentEpisodes: 0,
      maxTokens: 80,
    });
    expect(found.text.split('Bye! Take care.')).toHaveLength(2);
    expect(found.episodes.map((episode) => episode.text)).toContain('Ana: Haha okay, you convinced me.');
  });

  it('fills what the matches leave with their longer replies, within the budget', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const answer = `Ana: I did, four hours and ten minutes, my legs were shaking for the whole last mile but I kept going until the end.`;
    await importTurns(memory, userId, [
      ...fillers(6, (i) => `Ana: Work was quiet today, nothing to tell, day ${i}.`),
      'Ben: Did you finish the marathon?',
      answer,
      ...fillers(6, (i) => `Ben: Work was busy today, meetings all afternoon, day ${i}.`),
    ]);
    const query = { scope: { userId }, query: 'marathon', recentEpisodes: 0 };
    const said = ['Ben: Did you finish the marathon?', answer];
    // Room for one more line than the match: its longer reply, before the turns around it.
    const fit = budgetOf(memory, ['Earlier conversations:', '[2023-05-08 Mon]', ...said]);
    const wide = await memory.retrieve({ ...query, maxTokens: fit + 5 });
    expect(wide.episodes.map((episode) => episode.text)).toEqual(said);
    const tight = await memory.retrieve({ ...query, maxTokens: 30 });
    expect(tight.episodes.map((episode) => episode.text)).toEqual(['Ben: Did you finish the marathon?']);
  });

  it('fills what the matches leave with the conversation around them, nearest first, in their own thread', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    // The answer is three turns after the match and shares no word with the question.
    const answer = 'Ana: They pulled it out, it was a wisdom one.';
    await importTurns(memory, userId, [
      ...fillers(12, (i) => `Ana: Traffic was slow on the ring road, day ${i}.`),
      'Ben: How did the dentist appointment go?',
      'Ana: Fine, thanks.',
      'Ben: And the tooth?',
      answer,
      ...fillers(12, (i) => `Ben: Traffic was slow on the bridge, day ${i}.`),
    ]);
    // Said between them in time, in another thread: never part of the match's conversation.
    await importTurns(memory, userId, ['Ana: Other thread, said at the same minutes.'], MAY_8 + 13 * MINUTE, 'other');
    const query = 'What did the dentist do?';
    const texts = async (maxTokens: number) =>
      (await memory.retrieve({ scope: { userId }, query, recentEpisodes: 0, maxTokens })).episodes.map(
        (episode) => episode.text,
      );
    const wide = await texts(300);
    expect(wide).toContain(answer);
    expect(wide).not.toContain('Ana: Other thread, said at the same minutes.');
    // They are relevant episodes: a cap on those leaves them out.
    const capped = await memory.retrieve({
      scope: { userId },
      query,
      recentEpisodes: 0,
      maxTokens: 300,
      relevantEpisodes: 1,
    });
    expect(capped.episodes.map((episode) => episode.text)).toEqual([
      'Ben: How did the dentist appointment go?',
      'Ana: Fine, thanks.',
    ]);
    // Nearest first: the turn before the match (1 away) comes at a smaller budget than the answer (3 away).
    const firstBudget = async (text: string) => {
      for (let maxTokens = 0; maxTokens <= 300; maxTokens++) {
        const found = await memory.retrieve({ scope: { userId }, query, recentEpisodes: 0, maxTokens });
        expect(found.tokens).toBeLessThanOrEqual(maxTokens);
        if (found.episodes.some((episode) => episode.text === text)) return maxTokens;
      }
      return Number.POSITIVE_INFINITY;
    };
    const before = await firstBudget('Ana: Traffic was slow on the ring road, day 11.');
    const third = await firstBudget(answer);
    expect(before).toBeLessThan(third);
    expect(third).toBeLessThan(300);
    // A budget the matches fill reads no conversation around them.
    expect(
      await texts(
        budgetOf(memory, [
          'Earlier conversations:',
          '[2023-05-08 Mon]',
          'Ben: How did the dentist appointment go?',
          'Ana: Fine, thanks.',
        ]),
      ),
    ).toEqual(['Ben: How did the dentist appointment go?', 'Ana: Fine, thanks.']);
  });

  it('fills the token budget instead of fixed counts, and never goes over it', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const turn = (i: number) => `Ana: The garden ${'really '.repeat(i % 7)}needs work, bed number ${i}.`;
    await importTurns(memory, userId, fillers(40, turn));
    const wide = await memory.retrieve({ scope: { userId }, query: 'garden beds', maxTokens: 400 });
    expect(wide.episodes.length).toBeGreaterThan(10);
    expect(wide.tokens).toBeGreaterThan(300);
    for (const maxTokens of [0, 3, 9, 20, 57, 150, 400, 1000]) {
      const found = await memory.retrieve({ scope: { userId }, query: 'garden', maxTokens });
      expect(found.tokens).toBeLessThanOrEqual(maxTokens);
      expect(memory.countTokens(found.text)).toBe(found.tokens);
      if (maxTokens < 9) expect(found).toMatchObject({ text: '', episodes: [], facts: [] });
    }
    // An empty query (or stop words only) keeps the recent episodes; a huge one searches its start.
    const empty = await memory.retrieve({ scope: { userId }, query: '' });
    expect(empty.episodes.map((episode) => episode.text)).toEqual([turn(38), turn(39)]);
    expect((await memory.retrieve({ scope: { userId }, query: 'what is it?' })).episodes).toHaveLength(2);
    const huge = await memory.retrieve({ scope: { userId }, query: 'garden '.repeat(100_000), maxTokens: 200 });
    expect(huge.episodes.length).toBeGreaterThan(2);
    expect(huge.tokens).toBeLessThanOrEqual(200);
    for (const maxTokens of [-1, 1.5, Number.NaN]) {
      await expect(memory.retrieve({ scope: { userId }, query: 'garden', maxTokens })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/maxTokens/),
      });
    }
    await expect(memory.retrieve({ scope: { userId }, query: 42 as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(memory.retrieve({ scope: { userId }, query: 'garden', relevantEpisodes: -2 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('finds the half of a multi-hop question that only names what the other half introduced', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    await importTurns(memory, userId, [
      'Ana: My cousin Rafi just moved to Leeds, I miss him.',
      ...fillers(15, (i) => `Ana: My cousin keeps calling about moving boxes, box ${i}.`),
      'Ana: Guess what, Rafi runs a little bakery now.',
      ...fillers(15, (i) => `Ben: I started a new puzzle, piece ${i}.`),
    ]);
    const found = await memory.searchEpisodes({ userId }, "What did Ana's cousin who moved to Leeds start?", 4);
    expect(found.map((episode) => episode.text)).toEqual(
      expect.arrayContaining([
        'Ana: My cousin Rafi just moved to Leeds, I miss him.',
        'Ana: Guess what, Rafi runs a little bakery now.',
      ]),
    );
  });

  it('finds the other part of a two-part question through the rare words of the part it found', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    await importTurns(memory, userId, [
      'Ben: I play chess online every evening.',
      // Shares no word with the question but the speaker's name, which the short turns below say too.
      'Ana: Chess in the park on Saturdays has become my thing.',
      'Ben: Ana, we played cards all evening again.',
      ...fillers(7, () => 'Ana: Quiet evening, cards again.'),
      // Everyday words: many turns say them.
      ...fillers(40, (i) => `Cleo: Quiet evening, cards again, ${i}.`),
    ]);
    const chess = [
      'Ben: I play chess online every evening.',
      'Ana: Chess in the park on Saturdays has become my thing.',
    ];
    const found = await memory.searchEpisodes({ userId }, 'Which game do Ana and Ben both play?', 8);
    expect(found.map((episode) => episode.text)).toEqual(expect.arrayContaining(chess));
    // Without the feedback search (a question of one part asks none), the turn ranks below the short ones.
    const single = await memory.searchEpisodes({ userId }, 'What does Ana play?', 8);
    expect(single.map((episode) => episode.text)).not.toContain(chess[1]);
  });

  it('searches the things of the kind a question asks for: "What pets does Ana have?" finds "we got a puppy"', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const turns = fillers(24, (i) => `Ana: Long day at the office again, day ${i}.`);
    // Turns that say "pets" and the name: without the kind's members, they outrank the answers.
    for (const at of [2, 8, 14, 20]) turns[at] = 'Ben: Ana, my neighbour has so many pets, the pets bark all night.';
    turns[5] = 'Ana: We got a puppy last week, a golden retriever called Max.';
    turns[17] = 'Ana: Shelly the tortoise turned forty, we gave her strawberries.';
    await importTurns(memory, userId, turns);
    const answers = [turns[5], turns[17]];
    const found = await memory.searchEpisodes({ userId }, 'What pets does Ana have?', 4);
    expect(found.map((episode) => episode.text)).toEqual(expect.arrayContaining(answers));
    // With a rewrite model too, whose queries may name no member.
    const rewrite = new MockLLM({ script: [{ text: '{"queries": ["Ana office"]}' }] });
    const rewritten = await createMemory({ database: database(), migrate: false, rewrite });
    const byModel = await rewritten.searchEpisodes({ userId }, 'What pets does Ana have?', 4);
    expect(byModel.map((episode) => episode.text)).toEqual(expect.arrayContaining(answers));
    expect(rewrite.calls).toBe(1);
    // Asked whether, not which: no members searched, and the turns that say "pets" come first.
    const whether = await memory.searchEpisodes({ userId }, 'Does Ana have pets?', 4);
    expect(whether.map((episode) => episode.text)).not.toEqual(expect.arrayContaining(answers));
  });

  it('spends what the matches leave on the asked person’s statements of feeling or habit, for a question about what they would like', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    // Shares no word with the question: "Ana" is in most turns, so the search leaves it out.
    const disclosure =
      'Ana: Honestly I could spend the whole day around animals, they calm me down more than anything.';
    // As long as the disclosure, so a budget for one of them shows which comes first.
    const weaker = 'Ana: I need to pick up milk and bread on the way home tonight, the shop shuts early on Mondays.';
    // Said in another thread than the match: the conversation around the match (what fills a
    // budget last) never holds them, so what the prompt has of them the disclosure search found.
    await importTurns(
      memory,
      userId,
      [
        'Ben: I love how you always make time for your family, Ana.',
        'Ben: I always need a long walk, I love the hills more than anything.',
        disclosure,
        weaker,
      ],
      MAY_8 - 86_400_000,
      'evening',
    );
    await importTurns(memory, userId, [
      'Ben: The farm shop by the station was shut again.',
      ...fillers(30, (i) => `Ana: The bus was late again, stop ${i}.`),
    ]);
    const query = 'Would Ana enjoy a weekend at a farm?';
    const found = await memory.retrieve({ scope: { userId }, query, maxTokens: 300 });
    const texts = found.episodes.map((episode) => episode.text);
    expect(texts).toEqual(expect.arrayContaining([disclosure, 'Ben: The farm shop by the station was shut again.']));
    // Ben's statements are not Ana's; the first is about the listener anyway.
    expect(texts.filter((text) => text.startsWith('Ben: I'))).toEqual([]);
    expect(texts).toContain(weaker);
    // Within the budget, the most marked first: a budget with room for one of Ana's statements takes that one.
    const taken = new Set<string>();
    for (let maxTokens = 0; maxTokens <= 300; maxTokens += 2) {
      const within = await memory.retrieve({ scope: { userId }, query, maxTokens });
      expect(within.tokens).toBeLessThanOrEqual(maxTokens);
      expect(memory.countTokens(within.text)).toBe(within.tokens);
      const said = within.episodes
        .map((episode) => episode.text)
        .filter((text) => text === disclosure || text === weaker);
      if (said.length > 0) taken.add(said.join(' + '));
    }
    expect([...taken]).toEqual([disclosure, `${disclosure} + ${weaker}`]);
    // They are relevant episodes: a cap on those leaves them out.
    for (const relevantEpisodes of [0, 1]) {
      const capped = await memory.retrieve({ scope: { userId }, query, maxTokens: 300, relevantEpisodes });
      expect(capped.episodes.map((episode) => episode.text)).not.toContain(disclosure);
    }
    // A question that asks for a fact, not a preference, spends nothing on them.
    const fact = await memory.retrieve({ scope: { userId }, query: 'What did Ana see at the farm?', maxTokens: 300 });
    expect(fact.episodes.map((episode) => episode.text)).not.toContain(disclosure);
  });

  it('spends what the matches leave on both asked people’s statements of habit, for a question about a hobby', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    // Neither shares a word with the question; in another thread, so only the disclosure search finds them.
    const ana = 'Ana: Puzzles are my secret addiction, I just finished a map of the world.';
    const ben = 'Ben: I have been doing jigsaw puzzles every night, a thousand pieces at a time.';
    await importTurns(memory, userId, [ana, 'Ana: The bus was late.', ben], MAY_8 - 86_400_000, 'evening');
    await importTurns(memory, userId, [
      'Ben: My dad says everyone needs a hobby.',
      ...fillers(30, (i) => `${i % 2 ? 'Ana' : 'Ben'}: The bus was late again, stop ${i}.`),
    ]);
    const found = await memory.retrieve({
      scope: { userId },
      query: 'What hobby do Ana and Ben both have?',
      maxTokens: 300,
    });
    expect(found.episodes.map((episode) => episode.text)).toEqual(expect.arrayContaining([ana, ben]));
  });

  it('puts the asked people’s statements of habit before matches of their names only', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const ana = 'Ana: Puzzles are my secret addiction, I just finished a map of the world.';
    const ben = 'Ben: I have been doing jigsaw puzzles every night, a thousand pieces at a time.';
    await importTurns(memory, userId, [ana, 'Ana: The bus was late.', ben], MAY_8 - 86_400_000, 'evening');
    await importTurns(
      memory,
      userId,
      fillers(80, (i) => `${i % 2 ? 'Ana' : 'Ben'}: The bus was late again, stop ${i}.`),
    );
    // No word of the question but the names is said: their matches are the names' shortest
    // turns, which would fill the budget.
    const found = await memory.retrieve({
      scope: { userId },
      query: 'What activities do Ana and Ben both have?',
      maxTokens: 300,
    });
    expect(found.episodes.map((episode) => episode.text)).toEqual(expect.arrayContaining([ana, ben]));
    expect(found.tokens).toBeLessThanOrEqual(300);
  });

  it('searches vectors through an HNSW index when pgvector is loaded, one user among many', async () => {
    const memory = await createMemory({ database: database(), embedder: embedder() });
    const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes
      where indexname in ('memory_facts_embedding_d64_hnsw', 'memory_episodes_embedding_d64_hnsw')
      order by indexname`.execute(database().kysely);
    expect(indexes.rows.map((row) => row.indexname)).toEqual(
      database().hasVector ? ['memory_episodes_embedding_d64_hnsw', 'memory_facts_embedding_d64_hnsw'] : [],
    );
    const userId = user();
    for (let index = 0; index < 60; index++) {
      await memory.remember({ scope: { userId: user() }, key: 'seat', text: `Prefers window seats, row ${index}` });
    }
    await memory.remember({ scope: { userId }, key: 'seat', text: 'Prefers aisle seats' });
    const { facts, vector } = await memory.searchFacts({ userId }, 'seats window', 5);
    expect(vector).toBe(true);
    expect(facts.map((fact) => fact.text)).toEqual(['Prefers aisle seats']);
  });

  it('imports a history in one call: dates and order kept, idempotent by message, all or nothing', async () => {
    const memory = await createMemory({ database: database() });
    const userId = user();
    const input = (index: number, messageId = `m${index}`) => ({
      scope: { userId },
      messageId,
      occurredAt: MAY_8 + index * MINUTE,
      messages: [{ role: 'user' as const, name: 'Ana', content: `Turn ${index} about the kiln.` }],
    });
    const written = await memory.recordEpisodes([...Array.from({ length: 1200 }, (_, i) => input(i)), input(5)]);
    expect(written).toHaveLength(1201);
    expect(written[1200]!.id).toBe(written[5]!.id);
    expect(written[7]!.occurredAt).toBe(MAY_8 + 7 * MINUTE);
    expect(new Set(written.map((episode) => episode.id)).size).toBe(1200);
    // Importing again writes nothing and returns the stored episodes.
    const again = await memory.recordEpisodes([input(3), input(1300)]);
    expect(again[0]!.id).toBe(written[3]!.id);
    expect((await memory.recentEpisodes({ userId }, 2)).map((episode) => episode.text)).toEqual([
      'Ana: Turn 1300 about the kiln.',
      'Ana: Turn 1199 about the kiln.',
    ]);
    // One bad input fails the call before anything is written.
    await expect(
      memory.recordEpisodes([input(2000), { ...input(2001), occurredAt: Date.now() + 86_400_000 }]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await memory.searchEpisodes({ userId }, 'Turn 2000', 1)).not.toContainEqual(
      expect.objectContaining({ messageId: 'm2000' }),
    );
    expect(await memory.recordEpisodes([])).toEqual([]);
  });

  it('searches each part of a multi-part question, and the queries of a rewrite model when set', async () => {
    const userId = user();
    const turns = [
      'Maria: I have been doing jigsaw puzzles every night.',
      ...fillers(12, (i) => `Maria: Evan, Maria here, the weekend with Evan was fun, day ${i}.`),
      'Evan: Puzzles are my secret addiction.',
    ];
    const plain = await createMemory({ database: database() });
    await importTurns(plain, userId, turns);
    const question = 'What puzzles do Maria and Evan both enjoy?';
    const split = await plain.searchEpisodes({ userId }, question, 2);
    expect(split.map((episode) => episode.text).sort()).toEqual([
      'Evan: Puzzles are my secret addiction.',
      'Maria: I have been doing jigsaw puzzles every night.',
    ]);
    const rewrite = new MockLLM({ script: [{ text: '{"queries": ["secret addiction"]}' }, { text: 'not json' }] });
    const rewritten = await createMemory({ database: database(), migrate: false, rewrite });
    const failures: string[] = [];
    rewritten.events.on('memory.rewrite-failed', (event) => failures.push(event.error.message));
    const found = await rewritten.searchEpisodes({ userId }, 'What is Evan hooked on?', 1);
    expect(found.map((episode) => episode.text)).toEqual(['Evan: Puzzles are my secret addiction.']);
    expect(rewrite.requests[0]).toMatchObject({ tier: 'small', scope: { userId, tags: ['memory.rewrite'] } });
    // An answer off schema: reported, and the rules split the question.
    const fallback = await rewritten.searchEpisodes({ userId }, question, 2);
    expect(fallback).toHaveLength(2);
    expect(failures).toHaveLength(1);
  });
}
