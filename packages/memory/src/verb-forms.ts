/**
 * English irregular verbs, for search. A "did" question asks with its main verb in the base form
 * ("What did Sam take up?", "When did Ana go to Leeds?", "How did Ben feel?") and the answer was
 * said in the past ("I took up climbing", "I went to Leeds", "I felt so proud"); a question in the
 * perfect asks with the participle ("What bands has Ana seen?", "Where have they gone?") and the
 * answer says the past or the base ("We saw them live", "We went to Leeds", "I want to see them
 * again"). Postgres's `english` stemmer joins regular forms only (played, playing -> play), so such
 * a question is searched with its verb's irregular forms too ({@link withVerbForms}); nothing
 * changes in what is stored.
 *
 * Each family is the base form, then its past and its participle (and a form the stemmer keeps
 * apart: "goes" -> "goe"). Left out: be, have, do (stop words); verbs whose forms are all alike
 * (put, cut, read); and those whose past is more often another word in conversation: win ("won't"
 * is split into "won" and "t"), bite ("a bit"), rise, spring, lie, lay, bear, grind, wind, dive,
 * bind.
 */
import { MAX_QUERY_LENGTH } from './lexical-search.js';

const FAMILIES = `arise arose arisen|awake awoke awoken|beat beaten|become became|begin began begun|
bend bent|bleed bled|blow blew blown|break broke broken|breed bred|bring brought|build built|
burn burnt|buy bought|catch caught|choose chose chosen|cling clung|come came|creep crept|deal dealt|
dig dug|draw drew drawn|dream dreamt|drink drank drunk|drive drove driven|eat ate eaten|
fall fell fallen|feed fed|feel felt|fight fought|find found|flee fled|fly flew flown|
forbid forbade forbidden|forget forgot forgotten|forgive forgave forgiven|freeze froze frozen|
get got gotten|give gave given|go goes went gone|grow grew grown|hang hung|hear heard|hide hid hidden|
hold held|keep kept|kneel knelt|know knew known|lead led|leap leapt|learn learnt|leave left|lend lent|
light lit|lose lost|make made|mean meant|meet met|pay paid|ride rode ridden|ring rang rung|run ran|
say said|see saw seen|seek sought|sell sold|send sent|sew sewn|shake shook shaken|shine shone|
shoot shot|show shown|shrink shrank shrunk|sing sang sung|sink sank sunk|sit sat|sleep slept|
slide slid|speak spoke spoken|spend spent|spin spun|stand stood|steal stole stolen|stick stuck|
sting stung|strike struck|swear swore sworn|sweep swept|swim swam swum|swing swung|take took taken|
teach taught|tear tore torn|tell told|think thought|throw threw thrown|understand understood|
wake woke woken|wear wore worn|weave wove woven|weep wept|withdraw withdrew withdrawn|
write wrote written`;

/** Each form of a family -> the family's other forms. */
const OTHER_FORMS: ReadonlyMap<string, readonly string[]> = new Map(
  FAMILIES.split('|').flatMap((family) => {
    const forms = family.trim().split(/\s+/);
    return forms.map((form) => [form, forms.filter((other) => other !== form)] as const);
  }),
);

/**
 * The auxiliaries that ask with the main verb in a form the answer rarely repeats: "did" (the
 * base: "did Sam take" -> "took") and the perfect's "has", "have", "had" (the participle: "has Ana
 * seen" -> "saw", "see"), each also negated ("didn't", "hasn't", "have not").
 */
const AUXILIARY = /\b(?:did|has|have|had)(?:n['’]t|\s+not)?\b/giu;

const WORD = /[\p{L}'’]+/gu;

/** Subject pronouns, and determiners whose noun is the subject ("did the kids", "did her mom"). */
const PRONOUN = new Set(['i', 'you', 'he', 'she', 'it', 'we', 'they']);
const DETERMINER = new Set(['the', 'a', 'an', 'his', 'her', 'their', 'my', 'your', 'our', 'its']);
/** Words that join two subjects ("did Ana and Ben go"). */
const JOINS = new Set(['and', 'or']);
/** Adverbs said between the subject and the verb ("When did Ana first run 15 km?"). */
const ADVERBS = new Set([
  'first',
  'last',
  'ever',
  'never',
  'actually',
  'really',
  'finally',
  'just',
  'also',
  'still',
  'recently',
  // The perfect continuous ("What has Ana been drinking?"): the main verb is the one after it.
  'been',
]);

/**
 * The first word of `words` that is not the subject: capitalised words, pronouns, a determiner
 * or a possessive ("Ana's") and its noun, the "and" between two of them, and an adverb before the
 * verb.
 */
function mainVerb(words: readonly string[]): string | undefined {
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    const lower = word.toLowerCase();
    // A determiner or a possessive: the noun after it is the subject too.
    if (DETERMINER.has(lower) || /['’]s$/.test(lower)) {
      index++;
      continue;
    }
    const beforeVerb =
      /^\p{Lu}/u.test(word) || PRONOUN.has(lower) || ADVERBS.has(lower) || (index > 0 && JOINS.has(lower));
    if (!beforeVerb) return lower;
  }
  return undefined;
}

/**
 * The other forms of `verb`'s family; for a present participle ("has Ana been drinking"), those
 * of its base ("drink": "drank drunk"), which the stemmer joins to the participle.
 */
function otherForms(verb: string): readonly string[] {
  const forms = OTHER_FORMS.get(verb);
  if (forms !== undefined || !verb.endsWith('ing')) return forms ?? [];
  const stem = verb.slice(0, -3);
  // drinking -> drink, making -> make, running -> run.
  for (const base of [stem, `${stem}e`, stem.slice(0, -1)]) {
    if (base.length > 1 && OTHER_FORMS.has(base)) return OTHER_FORMS.get(base)!;
  }
  return [];
}

/**
 * `query` with the other forms of the main verb of each of its "did" and perfect questions
 * appended ("What did Sam take up?" -> "What did Sam take up? took taken"; "What has Ana seen?"
 * -> "What has Ana seen? see saw"); `query` itself when it has none. The main verb is the first
 * word after the auxiliary that is not its subject ({@link mainVerb}); an infinitive after it stays
 * as it is in the answer ("What did Ana agree to get?": "I agreed to get ..."), so it is not
 * expanded, and "have" as a main verb ("Do they have a dog?") has no verb after its object. Only
 * the first {@link MAX_QUERY_LENGTH} characters are read, as a search does, and a longer query is
 * cut so that the forms fit within them.
 */
export function withVerbForms(query: string): string {
  const searched = query.slice(0, MAX_QUERY_LENGTH);
  const added = new Set<string>();
  // What follows each auxiliary up to the end of its sentence.
  for (const clause of searched.split(AUXILIARY).slice(1)) {
    const words = clause.split(/[?.!;]/u)[0]!.match(WORD) ?? [];
    for (const form of otherForms(mainVerb(words) ?? '')) added.add(form);
  }
  if (added.size === 0) return query;
  const forms = [...added].join(' ');
  return `${searched.slice(0, MAX_QUERY_LENGTH - forms.length - 1)} ${forms}`;
}
