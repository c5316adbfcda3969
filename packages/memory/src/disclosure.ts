/**
 * Self-disclosure, for questions that ask what a person would like or is like ("Would Ana prefer
 * a quiet night in or a club night?", "Is Ben more of an active person or a homebody?"). People
 * tell what they like in first-person statements of feeling, preference or habit ("I love slowing
 * down", "I could spend the whole day around animals", "I need to move every day"), which rarely
 * share a word with such a question: an inference, not a match. When the question's matches leave
 * budget, memory spends it on the asked person's statements of that kind, the most marked first.
 * bench/memory, 10% of the full context, open-domain questions: tuning 30% -> 80%, held-out 50% ->
 * 75% (see docs/memory-benchmarks.md, session 11).
 */

const WORD = /[\p{L}\p{N}]+/gu;
const NAME = /^\p{Lu}\p{Ll}+$/u;

/**
 * A question about a person's likely preference or disposition: a hypothetical ("Would Ana ...",
 * "... likely ...", "might"), a preference asked outright ("prefer", "rather", "enjoy", "more of
 * a ... or ...") or what they like to do ("hobby", "pastime", "interests", "activities", "for
 * fun", "in their free time").
 */
const PREFERENCE_QUESTION =
  /\b(?:would|might|likely|prefers?|rather|enjoys?|hobby|hobbies|pastimes?|interests?|activity|activities|for fun|(?:free|spare) time)\b|\bmore of an?\b/i;

/** The first person singular: the speaker talks about themself. */
const FIRST_PERSON = /\b(?:i|i'm|i've|i'd|i'll|me|my|myself)\b/i;
/** The second person: a remark about the listener ("I love how you ..."), not about the speaker. */
const SECOND_PERSON = /\b(?:you|your|you're|yours|yourself)\b/i;
/**
 * The kinds of word that mark a statement of feeling, preference or habit: a verb of liking, a
 * feeling, a need, the generalising words of a disposition ("always", "never", "every", "more
 * than anything"), and a habit too strong to drop ("addicted", "obsessed", "hooked"). Written
 * from the tuning seeds' statements and the general kinds they belong to; a longer list
 * (happiest, care, best, rather, "makes me", "idea of", ...) gained held-out questions the tuning
 * seeds did not ask for and lost tuning ones, and "really" ("really into") lost tuning ones
 * (docs/memory-benchmarks.md, sessions 11 and 15).
 */
const MARKER_WORDS: readonly (readonly string[])[] = [
  ['love', 'loves', 'enjoy', 'enjoys', 'hate', 'hates', 'prefer', 'prefers'],
  ['feel', 'feels', 'calm'],
  ['need', 'needs'],
  ['always', 'never', 'every', 'whole', 'anything', 'nothing'],
  ['addiction', 'addicted', 'obsessed', 'hooked'],
];
/** Each kind as one pattern, and "more than" ("more than anything"), a kind of its own. */
const MARKERS: readonly RegExp[] = [
  ...MARKER_WORDS.map((kind) => new RegExp(`\\b(?:${kind.join('|')})\\b`, 'i')),
  /\bmore than\b/i,
];

/**
 * The marker words, as one search of the scope (its matches are filtered and scored in process):
 * the search stems them, so "loves" and "love" are one word of it.
 */
export const DISCLOSURE_QUERY = MARKER_WORDS.flat().join(' ');

/** True when `query` asks what a person would like or is like (see PREFERENCE_QUESTION). */
export function asksPreference(query: string): boolean {
  return PREFERENCE_QUESTION.test(query);
}

/**
 * The people `query` names who are among `speakers`: its capitalised words but the first ("Would
 * Ana ..." -> Ana), in order.
 */
export function askedPeople(query: string, speakers: ReadonlySet<string>): string[] {
  const words = query.match(WORD) ?? [];
  return [...new Set(words.filter((word, index) => index > 0 && NAME.test(word) && speakers.has(word)))];
}

/**
 * How much a sentence discloses of its speaker: the number of marker kinds it says, when it is in
 * the first person singular and not about the listener; 0 otherwise.
 */
export function disclosureScore(sentence: string): number {
  if (!FIRST_PERSON.test(sentence) || SECOND_PERSON.test(sentence)) return 0;
  return MARKERS.filter((marker) => marker.test(sentence)).length;
}

/**
 * Of `rows` (transcript lines, `Name: text`), those said by one of `people` that disclose
 * something, the most marked first (a row scores by its best sentence), in their given order
 * among equals.
 */
export function disclosures<Row extends { text: string }>(rows: readonly Row[], people: readonly string[]): Row[] {
  const scored: Array<{ row: Row; score: number }> = [];
  for (const row of rows) {
    const colon = row.text.indexOf(':');
    if (colon < 0 || !people.includes(row.text.slice(0, colon))) continue;
    const sentences = row.text.slice(colon + 1).split(/(?<=[.!?])\s+/);
    const score = Math.max(0, ...sentences.map(disclosureScore));
    if (score > 0) scored.push({ row, score });
  }
  return scored.sort((a, b) => b.score - a.score).map(({ row }) => row);
}
