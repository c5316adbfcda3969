// A generator of long multi-session conversations between two named people, shaped like the
// public LoCoMo benchmark: ~600 turns in 24 dated sessions over months, long and short turns,
// evidence in short follow-ups whose meaning is the turn before, relative times ("yesterday")
// that need the session's date, facts that change over time, facts whose second half names what
// a turn sessions earlier introduced, and many distractor turns that share the questions'
// words. Questions of four kinds, each with its evidence turns. Deterministic per seed; the
// held-out split draws from material the tuning split never uses (topics.ts). A dense family
// (`dense: true`) says the topics' words in passing in every long turn, so ranking decides more;
// `lists: true` adds LoCoMo's commonest multi-hop question, a list said over months; `lists: 'kinds'`
// the same with lists of things of a kind written apart from the search (kind-lists.ts).

import { kindLists } from './kind-lists.js';
import {
  AGREEMENTS,
  BRIDGES,
  CHATTER,
  CITIES,
  COMMONS,
  LISTS,
  OPENERS,
  PEOPLE,
  QUESTIONS_BACK,
  REACTIONS,
  SPEAKERS,
  TOPICS,
  WHEN,
  WORKPLACES,
} from './topics.js';

export type Split = 'tuning' | 'held-out';

/** Seeds the retrieval was tuned on, and seeds never looked at while tuning (other material too). */
export const SEEDS: Record<Split, number[]> = { tuning: [1, 2, 3, 4, 5], 'held-out': [101, 102, 103, 104, 105] };
export type QuestionKind = 'single-hop' | 'multi-hop' | 'temporal' | 'open-domain';
export const QUESTION_KINDS: readonly QuestionKind[] = ['single-hop', 'multi-hop', 'temporal', 'open-domain'];

export interface Turn {
  /** `D<session>:<turn>`, both from 1, as in LoCoMo. */
  id: string;
  session: number;
  speaker: string;
  text: string;
  /** When it was said (epoch ms). */
  at: number;
}

export interface Question {
  kind: QuestionKind;
  text: string;
  /** The turns that hold the answer: all of them are needed. */
  evidence: string[];
}

export interface Conversation {
  seed: number;
  split: Split;
  speakers: [string, string];
  turns: Turn[];
  questions: Question[];
}

export interface ConversationOptions {
  seed: number;
  split: Split;
  /** Default 24. */
  sessions?: number;
  /**
   * Words at LoCoMo's density (default false): the same conversation, its long turns also saying
   * the split's topic words, drawn by Zipf's law (see {@link densify}).
   */
  dense?: boolean;
  /**
   * Lists said over months (default false): each speaker says the three items of one list in
   * three sessions, asked as one multi-hop question ({@link withLists}). Added after everything
   * else, so the other turns, questions and evidence are those of the conversation without.
   * `'kinds'`: four lists (two a speaker) of things of a kind written apart from the search
   * (kind-lists.ts) instead of topics.ts's.
   */
  lists?: boolean | 'kinds';
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The half of a list a split may use: even indexes for tuning, odd for held-out. */
function half<T>(list: readonly T[], split: Split): T[] {
  return list.filter((_, index) => index % 2 === (split === 'tuning' ? 0 : 1));
}

/** A turn to be said: `owner` 0 or 1; `mark` names it for a question's evidence. */
interface Line {
  owner: 0 | 1;
  text: string;
  mark?: string;
}

const DAY = 86_400_000;

export function generateConversation(options: ConversationOptions): Conversation {
  const sparse = sparseConversation(options);
  const conversation = options.dense ? densify(sparse) : sparse;
  return options.lists ? withLists(conversation, options.lists === 'kinds') : conversation;
}

/**
 * The conversation with two lists said over months (topics.ts, `LISTS`; the split's half), or four
 * lists of things of a kind (`kinds`: kind-lists.ts, two a speaker): each speaker says a list's
 * three items in three different sessions, each item after a line of the
 * other speaker (its `lead`, or an ordinary question back) where that speaker's turn would come,
 * so the speakers still alternate; a long item gets an everyday sentence before or after it, as
 * the generator's statements do. One multi-hop question a list, its three items the evidence.
 * Turn ids are numbered again; the other questions' evidence follows its turns.
 */
function withLists(conversation: Conversation, kinds: boolean): Conversation {
  const next = random(conversation.seed * 15_485_863 + 29);
  const int = (below: number) => Math.floor(next() * below);
  const lists = kinds ? kindLists(conversation.split, int) : half(LISTS, conversation.split);
  const chatter = CHATTER.filter((text) => !text.includes('{'));
  const sessions = new Map<number, Turn[]>();
  for (const turn of conversation.turns) {
    const said = sessions.get(turn.session) ?? [];
    said.push(turn);
    sessions.set(turn.session, said);
  }
  const numbers = [...sessions.keys()];
  const questions: Array<{ text: string; items: Turn[] }> = [];
  const first = int(lists.length);
  for (let index = 0; index < (kinds ? 4 : 2); index++) {
    const owner = (index % 2) as 0 | 1;
    const list = lists[(first + index) % lists.length]!;
    const name = conversation.speakers[owner];
    const other = conversation.speakers[1 - owner]!;
    const fill = (text: string) =>
      text
        .replaceAll('{A}', name)
        .replaceAll('{B}', other)
        .replaceAll('{when}', () => WHEN[int(WHEN.length)]!);
    // Three sessions, one in each third of the conversation.
    const third = Math.max(1, Math.floor(numbers.length / 3));
    const items = list.items.map((item, index) => {
      const session = numbers[Math.min(numbers.length - 1, index * third + int(third))]!;
      const turns = sessions.get(session)!;
      // After a turn of the owner and before one of the other speaker, between two turns of the
      // conversation (not another list's: no id yet), not in the greeting or the goodbye.
      const places = turns
        .map((_, at) => at)
        .filter(
          (at) =>
            at >= 2 &&
            at < turns.length - 2 &&
            turns[at - 1]!.speaker === name &&
            turns[at]!.speaker === other &&
            turns[at - 1]!.id !== '' &&
            turns[at]!.id !== '',
        );
      const at = places.length > 0 ? places[int(places.length)]! : turns.length - 2;
      // Said in the gap between the two turns.
      const before = turns[at - 1]!.at;
      const gap = (turns[at]!.at - before) / 3;
      let text = fill(item.text);
      if (text.split(' ').length >= 8) {
        const everyday = chatter[int(chatter.length)]!;
        text = next() < 0.5 ? `${everyday} ${text}` : `${text} ${everyday}`;
      }
      // A question back is said to the owner: its {B}, the listener, is the owner.
      const lead = fill(item.lead ?? QUESTIONS_BACK[int(QUESTIONS_BACK.length)]!.replaceAll('{B}', '{A}'));
      const said: Turn = { id: '', session, speaker: name, text, at: before + 2 * gap };
      turns.splice(at, 0, { id: '', session, speaker: other, text: lead, at: before + gap }, said);
      return said;
    });
    questions.push({ text: fill(list.question), items });
  }
  // Numbered again, each session from 1; the old ids' evidence follows its turns.
  const renamed = new Map<string, string>();
  const turns: Turn[] = [];
  for (const [session, said] of sessions) {
    said.forEach((turn, index) => {
      const id = `D${session}:${index + 1}`;
      // An inserted turn (no id yet) is its question's evidence: it takes the id in place.
      if (turn.id === '') turn.id = id;
      else renamed.set(turn.id, id);
      turns.push({ ...turn, id });
    });
  }
  return {
    ...conversation,
    turns,
    questions: [
      ...conversation.questions.map((question) => ({
        ...question,
        evidence: question.evidence.map((id) => renamed.get(id)!),
      })),
      ...questions.map(({ text, items }) => ({
        kind: 'multi-hop' as const,
        text,
        evidence: items.map((item) => item.id),
      })),
    ],
  };
}

/** Sentences that mention two words in passing, as people return to their subjects. */
const MENTIONS = [
  'Funny, {x} came up again at work today, and then {y} of all things.',
  'I keep thinking about {x} lately, and a bit about {y} too.',
  'Not much {x} this week, to be honest, more {y} than anything.',
  'My sister keeps asking me about {x} and {y}, she is so nosy.',
  'We ended up talking about {x} for an hour, then {y}.',
  'There is always something with {x}, and now {y} on top.',
  'I read a long thread about {x} and {y} last night.',
  'Someone at the gym was going on about {x} and {y}.',
];
/** Words a mention never draws: the question words and function words of four letters or more. */
const UNDRAWN = new Set(['what', 'when', 'where', 'which', 'would', 'with', 'from', 'that', 'this', 'your', 'have']);

/**
 * The conversation with its topic words said more often, toward LoCoMo's density: there a
 * question's words match hundreds of ~590 turns, and the issue saw missed evidence share words
 * with its question and rank ~200th; the sparse generator's questions match a median 9-19 of
 * ~660 turns (this family: 14-32). Every turn of twelve words or more (evidence too: LoCoMo's
 * statements are chatty; its follow-ups, one short sentence, stay as they are) gets one more
 * sentence mentioning two words of the split's topic material (statements and questions, names
 * and words under four letters left out), each drawn with probability 1 / rank (Zipf's law) in
 * an order shuffled per seed: which words are common differs by conversation, as subjects differ
 * by person. Turn ids, speakers, times, questions and evidence are the sparse conversation's.
 */
function densify(conversation: Conversation): Conversation {
  const next = random(conversation.seed * 104_729 + 17);
  const topics = half(TOPICS, conversation.split);
  const material = topics.flatMap((topic) => [
    topic.fact,
    topic.factQuestion,
    topic.suggestion,
    topic.suggestionQuestion,
    topic.event,
    topic.eventQuestion,
    topic.hint,
    topic.hintQuestion,
  ]);
  const vocabulary = [
    ...new Set(
      material.flatMap((text) =>
        (text.replace(/\{\w+\}/g, ' ').match(/(?<![\p{L}'])\p{Ll}{4,}(?![\p{L}'])/gu) ?? []).filter(
          (word) => !UNDRAWN.has(word),
        ),
      ),
    ),
  ];
  for (let index = vocabulary.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [vocabulary[index], vocabulary[other]] = [vocabulary[other]!, vocabulary[index]!];
  }
  const weights = vocabulary.map((_, rank) => 1 / (rank + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const draw = () => {
    let left = next() * total;
    for (const [rank, weight] of weights.entries()) {
      left -= weight;
      if (left <= 0) return vocabulary[rank]!;
    }
    return vocabulary.at(-1)!;
  };
  const turns = conversation.turns.map((turn) => {
    if (turn.text.split(' ').length < 12) return turn;
    const mention = MENTIONS[Math.floor(next() * MENTIONS.length)]!.replace('{x}', draw()).replace('{y}', draw());
    return { ...turn, text: next() < 0.5 ? `${mention} ${turn.text}` : `${turn.text} ${mention}` };
  });
  return { ...conversation, turns };
}

function sparseConversation(options: ConversationOptions): Conversation {
  const next = random(options.seed * 7919 + (options.split === 'tuning' ? 1 : 2));
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const shuffle = <T>(list: readonly T[]): T[] => {
    const copy = [...list];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = int(index + 1);
      [copy[index], copy[other]] = [copy[other]!, copy[index]!];
    }
    return copy;
  };
  const split = options.split;
  const sessions = options.sessions ?? 24;
  const [first, second] = shuffle(half(SPEAKERS, split));
  const speakers: [string, string] = [first!, second!];
  const topics = half(TOPICS, split);
  const words = topics.flatMap((topic) => topic.words);
  const fill = (text: string, owner: 0 | 1, extra: Record<string, string> = {}) => {
    let out = text.replaceAll('{A}', speakers[owner]).replaceAll('{B}', speakers[1 - owner]!);
    for (const [key, value] of Object.entries(extra)) out = out.replaceAll(`{${key}}`, value);
    return out.replaceAll('{word}', () => pick(words)).replaceAll('{when}', () => pick(WHEN));
  };
  const chatter = (owner: 0 | 1) => fill(pick(CHATTER), owner);
  /** A long turn: the statement with everyday sentences around it. */
  const long = (owner: 0 | 1, statement: string) => {
    const before = next() < 0.5 ? `${chatter(owner)} ` : '';
    const after = Array.from({ length: int(3) }, () => ` ${chatter(owner)}`).join('');
    return `${before}${statement}${after}`;
  };
  const reaction = (owner: 0 | 1): Line => ({ owner, text: fill(pick(REACTIONS), owner) });

  // The scenes that carry evidence, each placed in a session; questions refer to their marks.
  const scenes = new Map<number, Line[][]>();
  const place = (session: number, scene: Line[]) => {
    const list = scenes.get(session) ?? [];
    list.push(scene);
    scenes.set(session, list);
  };
  const questions: Array<{ kind: QuestionKind; text: string; marks: string[] }> = [];
  const ask = (kind: QuestionKind, text: string, ...marks: string[]) => questions.push({ kind, text, marks });

  topics.forEach((topic, index) => {
    const owner = int(2) as 0 | 1;
    const other = (1 - owner) as 0 | 1;
    const mark = (part: string) => `topic${index}.${part}`;
    place(int(sessions), [
      { owner: other, text: fill(pick(QUESTIONS_BACK), other) },
      { owner, text: long(owner, fill(topic.fact, owner)), mark: mark('fact') },
      reaction(other),
    ]);
    ask('single-hop', fill(topic.factQuestion, owner), mark('fact'));
    place(int(sessions), [
      { owner, text: long(owner, 'I need something new to look forward to.') },
      { owner: other, text: fill(topic.suggestion, other) },
      { owner, text: fill(pick(half(AGREEMENTS, split)), owner), mark: mark('agreement') },
    ]);
    ask('single-hop', fill(topic.suggestionQuestion, owner), mark('agreement'));
    place(int(sessions), [
      { owner, text: long(owner, fill(topic.event, owner)), mark: mark('event') },
      { owner: other, text: fill('No way! How was it, {B}?', other) },
      { owner, text: 'Honestly so good, I am still buzzing.' },
    ]);
    ask('temporal', fill(topic.eventQuestion, owner), mark('event'));
    // Open-domain questions are the rarest kind in LoCoMo (96 of ~2,000): every other topic.
    if (index % 2 === 0) {
      place(int(sessions), [
        { owner, text: long(owner, fill(topic.hint, owner)), mark: mark('hint') },
        reaction(other),
      ]);
      ask('open-domain', fill(topic.hintQuestion, owner), mark('hint'));
    }
  });

  const late = (from: number) => from + int(sessions - from);
  shuffle(half(BRIDGES, split))
    .slice(0, 2)
    .forEach((bridge, index) => {
      const owner = (index % 2) as 0 | 1;
      const extra = { P: pick(PEOPLE), city: pick(CITIES) };
      const at = int(sessions / 2);
      place(at, [{ owner, text: long(owner, fill(bridge.first, owner, extra)), mark: `bridge${index}.first` }]);
      place(late(at + 4), [{ owner, text: fill(bridge.second, owner, extra), mark: `bridge${index}.second` }]);
      ask('multi-hop', fill(bridge.question, owner, extra), `bridge${index}.first`, `bridge${index}.second`);
    });
  const common = pick(half(COMMONS, split));
  const commonAt = int(sessions / 2);
  place(commonAt, [{ owner: 0, text: long(0, common.first), mark: 'common.first' }, reaction(1)]);
  place(late(commonAt + 3), [{ owner: 1, text: long(1, common.second), mark: 'common.second' }, reaction(0)]);
  ask('multi-hop', fill(common.question, 0), 'common.first', 'common.second');
  // A fact that changes over time: the old job stays in the history as a distractor.
  const [oldJob, newJob] = shuffle(half(WORKPLACES, split));
  const worker = int(2) as 0 | 1;
  const jobAt = int(sessions / 3);
  place(jobAt, [
    { owner: worker, text: long(worker, `I got a job at ${oldJob}, starting Monday!`), mark: 'job.old' },
    reaction((1 - worker) as 0 | 1),
  ]);
  place(late(jobAt + 6), [
    { owner: worker, text: `Big change: I started at ${newJob} this week, the people seem lovely.`, mark: 'job.new' },
    reaction((1 - worker) as 0 | 1),
  ]);
  ask('single-hop', fill('Where does {A} work now?', worker), 'job.new');
  ask('multi-hop', fill('Which places has {A} worked at since they started talking?', worker), 'job.old', 'job.new');
  ask('temporal', fill(`When did {A} start working at ${newJob}?`, worker), 'job.new');

  // The sessions: an opening, the placed scenes between everyday exchanges, a goodbye.
  const turns: Turn[] = [];
  const marked = new Map<string, string>();
  let day = Date.UTC(2023, 0, 2) + int(60) * DAY;
  for (let session = 0; session < sessions; session++) {
    day += (3 + int(14)) * DAY;
    const opener = int(2) as 0 | 1;
    const lines: Line[] = [
      { owner: opener, text: fill(pick(OPENERS), opener) },
      {
        owner: (1 - opener) as 0 | 1,
        text: long((1 - opener) as 0 | 1, fill(pick(QUESTIONS_BACK), (1 - opener) as 0 | 1)),
      },
    ];
    const placed = shuffle(scenes.get(session) ?? []);
    const length = 14 + int(10);
    while (lines.length < length || placed.length > 0) {
      if (placed.length > 0 && next() < 0.35) {
        lines.push(...placed.pop()!);
        continue;
      }
      const owner = int(2) as 0 | 1;
      lines.push({ owner, text: next() < 0.7 ? long(owner, chatter(owner)) : chatter(owner) });
      if (next() < 0.5) lines.push(reaction((1 - owner) as 0 | 1));
    }
    lines.push({ owner: 0, text: fill('Talk soon, {B}!', 0) }, { owner: 1, text: 'Bye! Take care.' });
    const started = day + (9 + int(10)) * 3_600_000;
    let index = 0;
    let last: 0 | 1 | undefined;
    for (const line of lines) {
      // Speakers take turns: two lines of one speaker get a short reaction of the other between them.
      const said = line.owner === last ? [reaction((1 - line.owner) as 0 | 1), line] : [line];
      for (const { owner, text, mark } of said) {
        index++;
        const id = `D${session + 1}:${index}`;
        turns.push({ id, session: session + 1, speaker: speakers[owner], text, at: started + index * 45_000 });
        if (mark) marked.set(mark, id);
        last = owner;
      }
    }
  }
  return {
    seed: options.seed,
    split,
    speakers,
    turns,
    questions: questions.map(({ kind, text, marks }) => ({
      kind,
      text,
      evidence: marks.map((mark) => marked.get(mark)!),
    })),
  };
}

/** A turn's date as a prompt prints it. */
export const day = (at: number) => new Date(at).toISOString().slice(0, 10);

/** The whole conversation as a prompt would hold it: a date line per session, a line per turn. */
export function fullContext(conversation: Conversation): string {
  const lines: string[] = [];
  let session = 0;
  for (const turn of conversation.turns) {
    if (turn.session !== session) lines.push(`[${day(turn.at)}]`);
    session = turn.session;
    lines.push(`${turn.speaker}: ${turn.text}`);
  }
  return lines.join('\n');
}
