/** How many of the best first-pass episodes lend their names to the second query. */
const BRIDGE_SOURCES = 3;
/**
 * How many of the best episodes lend their words to a feedback query. bench/memory, held-out
 * seeds, multi-hop: 3 sources 75%, 4 to 8 sources 80% (the second person's turn was 4th, below
 * two turns that merely said "play"); tuning seeds the same for each.
 */
const FEEDBACK_SOURCES = 5;
/**
 * Matches of a feedback query read to tell its rare words from its everyday ones. bench/memory,
 * held-out seeds: 25 too few (an everyday word is said by only one or two of them), 50 and 100
 * the same recall.
 */
const FEEDBACK_DEPTH = 100;
/** A word said by at most this many of the feedback query's matches is a rare one. */
const FEEDBACK_RARE = 2;

const WORD = /[\p{L}\p{N}]+/gu;
/**
 * Capitalised words that name a day, not someone or something a second query could find ("on
 * Sunday"): as bridge names they search every turn said of that weekday (bench/memory latency, the
 * agent's 50,000 rows: 8 of 16 second hops were weekdays, 3-4 ms of CPU each). Months are not here:
 * April, May, June and August are also given names.
 */
const WEEKDAYS = new Set(
  ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].flatMap((day) => [day, `${day}s`]),
);
/** A transcript line's speaker: `Name:` at the start of a line. */
const SPEAKER = /^([\p{L}][\p{L}\p{N} _-]{0,40}):/gmu;

/**
 * The second query of a multi-hop question, by rule: the names (capitalised words inside a
 * sentence) of the best first-pass episodes that the question does not contain. "What did
 * Ana's cousin who moved to Leeds open?" finds "My cousin Rafi just moved to Leeds"; its second
 * half ("Rafi opened a bakery") shares no word with the question but the name. Speakers (a
 * transcript line's `Name:`) are left out: they are in every other turn, and so are weekdays.
 * Undefined when there is no new name.
 */
export function bridgeQuery(
  query: string,
  ranked: readonly { text: string }[],
  speakers: ReadonlySet<string>,
): string | undefined {
  const asked = wordsOf(query);
  const names = new Set<string>();
  for (const { text } of ranked.slice(0, BRIDGE_SOURCES)) {
    // A capitalised word after a letter, a digit or a comma and a space: not a sentence's first word.
    for (const match of text.matchAll(/(?<=[\p{Ll}\p{N},] )\p{Lu}[\p{Ll}]+/gu)) {
      const name = match[0];
      if (!asked.has(name.toLowerCase()) && !speakers.has(name) && !WEEKDAYS.has(name)) names.add(name);
    }
  }
  return names.size > 0 ? [...names].join(' ') : undefined;
}

export interface FeedbackSearchOptions<Row> {
  query: string;
  /** The best episodes found for the question and its parts, best first. */
  ranked: readonly Row[];
  speakers: ReadonlySet<string>;
  /** A lexical search of the same scope. */
  search: (query: string, limit: number) => Promise<Row[]>;
  /** Rows to return at most. */
  limit: number;
}

/**
 * Pseudo-relevance feedback for a question of two parts that share a subject ("Which game do
 * Ana and Ben both play?"): the words of the best episodes found so far that the question does
 * not say (speakers left out) are searched again, and the matches that share a **rare** one of
 * them with those episodes are kept, best first, the episodes themselves left out. Ben's "I play
 * chess online" is found by the question; Ana's "Chess in the park has become my thing" shares
 * only "chess" with it. A word is rare when at most 2 of the search's first 100 matches say it:
 * the search ranks by the sum over words, so the many matches of everyday words ("family",
 * "week") would crowd out the one of a rare word (bench/memory, held-out seeds: these words
 * added to the name bridge's query, unfiltered, took multi-hop recall from 65% to 15%).
 */
export async function feedbackSearch<Row extends { id: string; text: string }>(
  options: FeedbackSearchOptions<Row>,
): Promise<Row[]> {
  const asked = wordsOf(options.query);
  const speakers = new Set([...options.speakers].map((speaker) => speaker.toLowerCase()));
  const sources = options.ranked.slice(0, FEEDBACK_SOURCES);
  const words = new Set<string>();
  for (const { text } of sources) {
    for (const word of wordsOf(text.replace(SPEAKER, ' ')))
      if (!asked.has(word) && !speakers.has(word)) words.add(word);
  }
  if (words.size === 0) return [];
  const known = new Set(sources.map((row) => row.id));
  const matches = (await options.search([...words].join(' '), FEEDBACK_DEPTH)).filter((row) => !known.has(row.id));
  const says = matches.map((row) => [...wordsOf(row.text)].filter((word) => words.has(word)));
  const saidBy = new Map<string, number>();
  for (const list of says) for (const word of list) saidBy.set(word, (saidBy.get(word) ?? 0) + 1);
  return matches
    .filter((_, index) => says[index]!.some((word) => saidBy.get(word)! <= FEEDBACK_RARE))
    .slice(0, options.limit);
}

/** The speakers of transcript lines (`Name: text`) among `rows`. */
export function speakersOf(rows: readonly { text: string }[]): Set<string> {
  const speakers = new Set<string>();
  for (const { text } of rows) for (const match of text.matchAll(SPEAKER)) speakers.add(match[1]!);
  return speakers;
}

function wordsOf(text: string): Set<string> {
  return new Set((text.match(WORD) ?? []).map((word) => word.toLowerCase()));
}
