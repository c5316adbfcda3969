import type { TokenCounter } from './tokens.js';

/** An episode as the prompt needs it: `seq` orders episodes said at the same time. */
export interface PromptEpisode {
  id: string;
  text: string;
  occurredAt: number;
  seq: number;
}

export interface PromptFact {
  id: string;
  text: string;
}

/** A ranked episode and the turns that go with it (memory gives its short reply). */
export interface PromptHit<E extends PromptEpisode> {
  episode: E;
  neighbours: E[];
}

export interface FillOptions<F extends PromptFact, E extends PromptEpisode> {
  /** Best first. */
  facts: readonly F[];
  /** Best first. */
  hits: readonly PromptHit<E>[];
  /** Newest first: kept after the two best hits, for the thread of the conversation. */
  recent: readonly E[];
  /** Best first: tried after every fact and hit, for what they left of the budget. */
  rest?: readonly E[];
  maxTokens: number;
  countTokens: TokenCounter;
}

export interface FilledPrompt<F, E> {
  facts: F[];
  /** In the order they were said. */
  episodes: E[];
  text: string;
  tokens: number;
}

const FACTS_HEADER = 'Known facts:';
const EPISODES_HEADER = 'Earlier conversations:';
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The header of a day's episodes: `[2023-05-08 Mon]` (UTC), so "last Saturday" can be dated. */
export function dayHeader(at: number): string {
  const date = new Date(at);
  return `[${date.toISOString().slice(0, 10)} ${WEEKDAYS[date.getUTCDay()]}]`;
}

const dayOf = (at: number) => Math.floor(at / 86_400_000);
const episodeLine = (episode: Pick<PromptEpisode, 'text'>) => episode.text.replaceAll('\n', ' / ');

/**
 * The ranked episodes without those whose line a better one already says: a turn said again and
 * again ("Bye! Take care.", at the end of every session) matches a question's common word and,
 * short, ranks high each time; its copies spent a tight budget on one line. bench/memory, 5% of
 * full context: held-out 78.8% -> 85.3%, tuning 84.1% -> 84.7% (see docs/memory-benchmarks.md).
 */
export function distinctLines<E extends Pick<PromptEpisode, 'text'>>(ranked: readonly E[]): E[] {
  const lines = new Set<string>();
  return ranked.filter((episode) => {
    const line = episodeLine(episode);
    if (lines.has(line)) return false;
    lines.add(line);
    return true;
  });
}

/**
 * The prompt block of facts and episodes, filled best first until `maxTokens` is spent (not a
 * fixed count): facts and hits alternate by rank, each hit with its neighbours when they fit (the
 * hit alone when they do not), the recent episodes after the second hit, then `rest` in what is left. Episodes are printed in
 * the order they were said under one date header per day, a fact per line; nothing else is
 * printed per line (a date prefix per line cost ~11 tokens, a third of a short turn). The result
 * never exceeds `maxTokens` by the counter: the lowest ranked items go first.
 */
export function fillPrompt<F extends PromptFact, E extends PromptEpisode>(
  options: FillOptions<F, E>,
): FilledPrompt<F, E> {
  const { countTokens, maxTokens } = options;
  const lineCost = (line: string) => countTokens(line) + 1;
  const keptFacts: F[] = [];
  const keptEpisodes = new Map<string, E>();
  const days = new Set<number>();
  let used = 0;
  const episodesCost = (episodes: readonly E[]) => {
    const newDays = new Set<number>();
    let cost = keptEpisodes.size === 0 ? lineCost(EPISODES_HEADER) : 0;
    for (const episode of episodes) {
      if (keptEpisodes.has(episode.id)) continue;
      const day = dayOf(episode.occurredAt);
      if (!days.has(day) && !newDays.has(day)) cost += lineCost(dayHeader(episode.occurredAt));
      newDays.add(day);
      cost += lineCost(episodeLine(episode));
    }
    return cost;
  };
  const addEpisodes = (episodes: readonly E[]): boolean => {
    const cost = episodesCost(episodes);
    if (used + cost > maxTokens) return false;
    used += cost;
    for (const episode of episodes) {
      keptEpisodes.set(episode.id, episode);
      days.add(dayOf(episode.occurredAt));
    }
    return true;
  };
  const addFact = (fact: F) => {
    const cost = lineCost(`- ${fact.text}`) + (keptFacts.length === 0 ? lineCost(FACTS_HEADER) : 0);
    if (used + cost > maxTokens) return;
    used += cost;
    keptFacts.push(fact);
  };
  const addHit = (hit: PromptHit<E>) => {
    if (!addEpisodes([hit.episode, ...hit.neighbours])) addEpisodes([hit.episode]);
  };
  const addRecent = () => {
    for (const episode of options.recent) addEpisodes([episode]);
  };
  const rounds = Math.max(options.facts.length, options.hits.length);
  for (let index = 0; index < rounds; index++) {
    const fact = options.facts[index];
    if (fact) addFact(fact);
    const hit = options.hits[index];
    if (hit) addHit(hit);
    if (index === 1) addRecent();
  }
  if (rounds < 2) addRecent();
  for (const episode of options.rest ?? []) addEpisodes([episode]);

  let episodes = [...keptEpisodes.values()].sort((a, b) => a.occurredAt - b.occurredAt || a.seq - b.seq);
  let facts = keptFacts;
  let text = render(facts, episodes);
  let tokens = text === '' ? 0 : countTokens(text);
  // The counter of a whole text may differ from the sum of its lines' (a tokenizer merging across
  // a newline): drop the last fact or the latest episode until it fits.
  while (tokens > maxTokens) {
    if (facts.length >= episodes.length) facts = facts.slice(0, -1);
    else episodes = episodes.slice(0, -1);
    text = render(facts, episodes);
    tokens = text === '' ? 0 : countTokens(text);
  }
  return { facts, episodes, text, tokens };
}

function render(facts: readonly PromptFact[], episodes: readonly PromptEpisode[]): string {
  const lines: string[] = [];
  if (facts.length > 0) lines.push(FACTS_HEADER, ...facts.map((fact) => `- ${fact.text}`));
  if (episodes.length > 0) {
    lines.push(EPISODES_HEADER);
    let day: number | undefined;
    for (const episode of episodes) {
      if (dayOf(episode.occurredAt) !== day) lines.push(dayHeader(episode.occurredAt));
      day = dayOf(episode.occurredAt);
      lines.push(episodeLine(episode));
    }
  }
  return lines.join('\n');
}

/**
 * Turns read at most on each side of a match when the matches leave budget: the conversation
 * around where a matter came up, nearest first, fills what is left (a question of rare words
 * matches a few turns; its answer is often a turn or two away from them, in words it does not
 * share).
 */
export const MAX_CONTEXT_RADIUS = 32;
/** Turns the windows read at most in all, as many as a retrieve's candidates at most (400). */
export const MAX_CONTEXT_TURNS = 400;

/** The best `hits` matches whose conversation around them is read, `radius` turns on each side. */
export interface ContextWindows {
  hits: number;
  radius: number;
}

export const NO_CONTEXT: ContextWindows = { hits: 0, radius: 0 };

/**
 * The windows that fill `leftover` tokens of a prompt, at the average line of its `matches`
 * matches (their lines: `tokens`): the best matches, as many as one turn on each side of them
 * would fill it, each read as many turns on each side as the leftover takes (1 to
 * {@link MAX_CONTEXT_RADIUS}), and {@link MAX_CONTEXT_TURNS} in all at most (a huge budget reads no
 * more); none when the leftover holds less than one such line. The turns read are about the
 * lines the leftover holds: one statement, ~0.04 ms of CPU a turn on PGlite.
 */
export function contextWindows(matches: number, tokens: number, leftover: number): ContextWindows {
  if (matches === 0) return NO_CONTEXT;
  const perTurn = Math.max(tokens / matches, 1);
  if (leftover < perTurn) return NO_CONTEXT;
  const turns = Math.min(leftover / perTurn, MAX_CONTEXT_TURNS);
  const hits = Math.min(matches, Math.ceil(turns / 2));
  const radius = Math.min(
    MAX_CONTEXT_RADIUS,
    Math.ceil(turns / (2 * hits)),
    Math.floor(MAX_CONTEXT_TURNS / (2 * hits)),
  );
  return { hits, radius: Math.max(1, radius) };
}
