import { describe, expect, it } from 'vitest';
import { generateConversation, QUESTION_KINDS, SEEDS } from './conversation.js';
import { kindItems } from './kind-lists.js';
import { LISTS, TOPICS } from './topics.js';

describe('memory bench conversations', () => {
  const tuning = generateConversation({ seed: 1, split: 'tuning' });
  const heldOut = generateConversation({ seed: 101, split: 'held-out' });

  it('is deterministic per seed and long: 500+ turns of two named speakers in dated sessions', () => {
    expect(generateConversation({ seed: 1, split: 'tuning' })).toEqual(tuning);
    for (const conversation of [tuning, heldOut]) {
      expect(conversation.turns.length).toBeGreaterThan(500);
      expect(new Set(conversation.turns.map((turn) => turn.speaker))).toEqual(new Set(conversation.speakers));
      expect(new Set(conversation.turns.map((turn) => turn.id)).size).toBe(conversation.turns.length);
      const times = conversation.turns.map((turn) => turn.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const days = new Set(times.map((at) => Math.floor(at / 86_400_000)));
      expect(days.size).toBe(24);
      // Long and short turns.
      const lengths = conversation.turns.map((turn) => turn.text.split(' ').length);
      expect(Math.min(...lengths)).toBeLessThanOrEqual(3);
      expect(Math.max(...lengths)).toBeGreaterThanOrEqual(40);
    }
  });

  it('asks questions of the four kinds, each with evidence turns that exist', () => {
    for (const conversation of [tuning, heldOut]) {
      const kinds = new Set(conversation.questions.map((question) => question.kind));
      expect([...kinds].sort()).toEqual([...QUESTION_KINDS].sort());
      const byId = new Map(conversation.turns.map((turn) => [turn.id, turn]));
      for (const question of conversation.questions) {
        expect(question.evidence.length).toBeGreaterThan(0);
        for (const id of question.evidence) expect(byId.has(id)).toBe(true);
        if (question.kind === 'multi-hop') {
          const sessions = new Set(question.evidence.map((id) => byId.get(id)!.session));
          expect(sessions.size).toBe(2);
        }
      }
      // Some evidence is a short follow-up whose meaning is the turn before it.
      const short = conversation.questions.filter((question) =>
        question.evidence.some((id) => byId.get(id)!.text.split(' ').length <= 8),
      );
      expect(short.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('keeps the held-out split on material the tuning split never uses', () => {
    const facts = (text: string) => TOPICS.filter((topic) => text.includes(topic.fact.slice(0, 30)));
    const used = (conversation: typeof tuning) => new Set(conversation.turns.flatMap((turn) => facts(turn.text)));
    const overlap = [...used(tuning)].filter((topic) => used(heldOut).has(topic));
    expect(used(tuning).size).toBeGreaterThan(0);
    expect(overlap).toEqual([]);
    expect(tuning.speakers.some((name) => heldOut.speakers.includes(name))).toBe(false);
  });

  it("has a dense family: the same conversation, its long turns saying the split's topic words more often", () => {
    const words = (text: string) => new Set(text.toLowerCase().match(/\p{L}{4,}/gu) ?? []);
    for (const sparse of [tuning, heldOut]) {
      const dense = generateConversation({ seed: sparse.seed, split: sparse.split, dense: true });
      expect(generateConversation({ seed: sparse.seed, split: sparse.split, dense: true })).toEqual(dense);
      expect(dense.questions).toEqual(sparse.questions);
      expect(dense.turns.map(({ id, speaker, at }) => ({ id, speaker, at }))).toEqual(
        sparse.turns.map(({ id, speaker, at }) => ({ id, speaker, at })),
      );
      // Short turns (the follow-ups) stay as they were; long ones gain a sentence.
      dense.turns.forEach((turn, index) => {
        const before = sparse.turns[index]!.text;
        if (before.split(' ').length < 12) expect(turn.text).toBe(before);
        else expect(turn.text.length).toBeGreaterThan(before.length);
      });
      // A question's words (4 letters or more) are said by more turns (1.37x and 1.42x for these seeds).
      const matching = (conversation: typeof tuning) =>
        conversation.questions.reduce((sum, question) => {
          // Lower-case words only: the names of the speakers and of the people they mention are out.
          const asked = (question.text.match(/(?<![\p{L}'])\p{Ll}{4,}/gu) ?? []).filter(
            (word) => !/^(what|when|where|which|would|with)$/.test(word),
          );
          return sum + conversation.turns.filter((turn) => asked.some((word) => words(turn.text).has(word))).length;
        }, 0);
      expect(matching(dense)).toBeGreaterThan(matching(sparse) * 1.3);
    }
  });

  it.each([
    { lists: true, count: 2 },
    { lists: 'kinds', count: 4 },
  ] as const)(
    'has a lists family ($lists): the dense conversation with $count lists said over months, its other questions kept',
    ({ lists: source, count }) => {
      for (const sparse of [tuning, heldOut]) {
        const options = { seed: sparse.seed, split: sparse.split, dense: true };
        const dense = generateConversation(options);
        const lists = generateConversation({ ...options, lists: source });
        expect(generateConversation({ ...options, lists: source })).toEqual(lists);
        expect(lists.turns.length).toBe(dense.turns.length + 6 * count);
        // Speakers still alternate, times still rise, and the ids are numbered again per session, for
        // every seed of the split (two lists may go to one session).
        for (const seed of SEEDS[sparse.split]) {
          const turns = generateConversation({ ...options, seed, lists: source }).turns;
          for (const [index, turn] of turns.entries()) {
            const before = turns[index - 1];
            if (before?.session !== turn.session) {
              expect(turn.id).toBe(`D${turn.session}:1`);
              continue;
            }
            expect(turn.id).toBe(`D${turn.session}:${Number(before.id.split(':')[1]) + 1}`);
            expect(turn.speaker).not.toBe(before.speaker);
            expect(turn.at).toBeGreaterThan(before.at);
          }
        }
        // Every earlier question's evidence is the same turns, under their new ids.
        const text = (conversation: typeof tuning, id: string) =>
          conversation.turns.find((turn) => turn.id === id)!.text;
        dense.questions.forEach((question, index) => {
          expect(lists.questions[index]!.evidence.map((id) => text(lists, id))).toEqual(
            question.evidence.map((id) => text(dense, id)),
          );
        });
        // The list questions, the speakers in turn, each with three items in three sessions.
        const added = lists.questions.slice(dense.questions.length);
        expect(added).toHaveLength(count);
        expect(new Set(added.map((question) => question.text)).size).toBe(count);
        for (const [index, question] of added.entries()) {
          const owner = index % 2;
          expect(question.kind).toBe('multi-hop');
          expect(question.text).toContain(lists.speakers[owner]);
          const turns = question.evidence.map((id) => lists.turns.find((turn) => turn.id === id)!);
          expect(new Set(turns.map((turn) => turn.session)).size).toBe(3);
          expect(turns.every((turn) => turn.speaker === lists.speakers[owner])).toBe(true);
          if (source === 'kinds') {
            // Three different lines of one kind, of the split's own lines.
            const kind = kindItems(sparse.split, '').find(({ lines }) =>
              turns.every((turn) => lines.some((line) => turn.text.includes(line))),
            );
            expect(kind).toBeDefined();
            expect(new Set(turns.map((turn) => turn.text)).size).toBe(3);
            continue;
          }
          const list = LISTS.find(
            (candidate) => candidate.question.replace('{A}', lists.speakers[owner]!) === question.text,
          )!;
          for (const [item, turn] of turns.entries()) {
            expect(turn.text).toContain(list.items[item]!.text.split('{when}')[0]!.slice(0, 20));
          }
        }
      }
    },
  );
});
