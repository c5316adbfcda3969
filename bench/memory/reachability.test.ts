import { type Database, openDatabase } from '@agentrix/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Conversation, generateConversation, type Question } from './conversation.js';
import { evidenceReach, lexemeReader, lexicallyReachable } from './reachability.js';

describe('lexical reachability of a question', () => {
  let database: Database;
  let lexemes: (text: string) => Promise<Set<string>>;
  beforeAll(async () => {
    database = await openDatabase('memory://', { vector: 'off' });
    lexemes = lexemeReader(database);
  });
  afterAll(async () => {
    await database.close();
  });

  const said = (id: string, speaker: string, text: string) => ({ id, session: 1, speaker, text, at: 0 });
  const conversation: Conversation = {
    seed: 0,
    split: 'tuning',
    speakers: ['Ana', 'Ben'],
    turns: [
      said('D1:1', 'Ana', 'I adopted a rescue dog called Biscuit.'),
      said('D1:2', 'Ben', 'You should take Biscuit to the agility classes at the park.'),
      said('D1:3', 'Ana', "Yeah, good idea! I'll give it a try."),
      said('D1:4', 'Ana', 'My cousin Rafi moved to Leeds.'),
      said('D1:5', 'Ana', 'Rafi opened a bakery.'),
      said('D1:6', 'Ana', 'Honestly I could spend the whole day around animals.'),
      said('D1:7', 'Ben', 'Ana, I started at the city library this week.'),
    ],
    questions: [],
  };
  const reachable = (text: string, ...evidence: string[]) =>
    lexicallyReachable(lexemes, conversation, { kind: 'single-hop', text, evidence } as Question);

  it('reaches a turn that shares a word with the question, as its stem', async () => {
    expect(await reachable('Which dogs did Ana adopt?', 'D1:1')).toBe(true);
  });

  it('reaches a reply through the turn before it, and a second hop through the first', async () => {
    expect(await reachable('What did Ben suggest about the agility classes?', 'D1:3')).toBe(true);
    expect(await reachable("What did Ana's cousin who moved to Leeds open?", 'D1:4', 'D1:5')).toBe(true);
  });

  it("does not count the speakers' names: an inference or a paraphrase is out of reach", async () => {
    expect(await reachable('Would Ana enjoy a farm stay?', 'D1:6')).toBe(false);
    // "Ana" is said in both, and is a speaker's name.
    expect(await reachable('Where did Ben tell Ana he works now?', 'D1:7')).toBe(false);
    // One evidence turn out of reach makes the question out of reach.
    expect(await reachable('Which dogs did Ana adopt and would she enjoy a farm stay?', 'D1:1', 'D1:6')).toBe(false);
  });

  it('puts the paraphrased questions of the generator out of reach and its temporal ones in reach', async () => {
    const generated = generateConversation({ seed: 1, split: 'tuning' });
    const reach = async (kind: string, pattern = /./) => {
      const asked = generated.questions.filter((question) => question.kind === kind && pattern.test(question.text));
      const reached = await Promise.all(asked.map((question) => lexicallyReachable(lexemes, generated, question)));
      return { asked: asked.length, reached: reached.filter(Boolean).length };
    };
    expect(await reach('temporal')).toEqual({ asked: 9, reached: 9 });
    expect(await reach('single-hop', /work now/)).toEqual({ asked: 1, reached: 0 });
    // An inference's long turn may share a word with the question by chance (a distractor
    // sentence beside the hint): the ceiling counts it, since a search can match it.
    expect((await reach('open-domain')).reached).toBeLessThanOrEqual(1);
  });

  it('tells how each evidence turn is found by words, and counts the turns the question matches', async () => {
    const question = (text: string, ...evidence: string[]) => ({ kind: 'single-hop', text, evidence }) as Question;
    const { reach, matches } = await evidenceReach(
      lexemes,
      conversation,
      question('What did Ben suggest about the agility classes for the dog?', 'D1:1', 'D1:3', 'D1:6'),
    );
    expect(Object.fromEntries(reach)).toEqual({
      'D1:1': { how: 'shares', words: 1 },
      'D1:3': { how: 'replies', words: 0 },
      'D1:6': { how: 'none', words: 0 },
    });
    // D1:1 ("dog") and D1:2 ("agility classes"); "Ben" is a speaker's name, not a match.
    expect(matches).toBe(2);
  });
});
