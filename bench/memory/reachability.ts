// Which questions a word search can answer at all: the ceiling of lexical retrieval on the
// generated conversations, printed beside the recall figures so a reader can tell a ranking miss
// from a vocabulary gap.

import type { Database } from '@agentrix/store';
import type { Conversation, Question } from './conversation.js';

/**
 * The search lexemes of a text, as memory's full-text search sees them: stems, no stop words
 * (`to_tsvector` with the database's default configuration, `english` on PGlite, the one memory
 * uses). Each distinct text is read once.
 */
export function lexemeReader(database: Database): (text: string) => Promise<Set<string>> {
  const known = new Map<string, Set<string>>();
  return async (text) => {
    let lexemes = known.get(text);
    if (!lexemes) {
      const { words } = await database.kysely
        .selectNoFrom((eb) =>
          eb.fn<string[]>('tsvector_to_array', [eb.fn('to_tsvector', [eb.cast(eb.val(text), 'text')])]).as('words'),
        )
        .executeTakeFirstOrThrow();
      lexemes = new Set(words);
      known.set(text, lexemes);
    }
    return lexemes;
  };
}

/**
 * Whether any lexical search can reach a question's evidence: each evidence turn shares a search
 * lexeme other than the speakers' names with the question, or follows a turn that does (the reply
 * kept with a match), or shares such a lexeme with an evidence turn reached so (a second hop).
 * The other questions (open-domain inferences, "Where does X work now?" against "I started at
 * the library") share only a name with their evidence: no ranking of words finds them, only a
 * rewrite model, an embedder or distillation.
 */
export async function lexicallyReachable(
  lexemes: (text: string) => Promise<Set<string>>,
  conversation: Conversation,
  question: Question,
): Promise<boolean> {
  const names = await lexemes(conversation.speakers.join(' '));
  const content = async (text: string) => new Set([...(await lexemes(text))].filter((word) => !names.has(word)));
  const shares = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((word) => b.has(word));
  const asked = await content(question.text);
  const index = new Map(conversation.turns.map((turn, at) => [turn.id, at]));
  const evidence = await Promise.all(
    question.evidence.map(async (id) => {
      const at = index.get(id)!;
      const before = conversation.turns[at - 1];
      return {
        words: await content(conversation.turns[at]!.text),
        replies: before !== undefined && shares(await content(before.text), asked),
      };
    }),
  );
  const reached = evidence.filter(({ words, replies }) => replies || shares(words, asked));
  return (
    reached.length > 0 &&
    evidence.every((turn) => reached.includes(turn) || reached.some((other) => shares(other.words, turn.words)))
  );
}

/**
 * How each evidence turn of a question can be found by words: it shares a search lexeme other
 * than the speakers' names with the question (`shares`, with `words` the count of such lexemes it
 * says), or replies to a turn that does (`replies`), or neither (`none`). With `matches`, the
 * turns that share such a lexeme with the question: on LoCoMo a question's words match hundreds
 * of ~590 turns, so ranking decides.
 */
export async function evidenceReach(
  lexemes: (text: string) => Promise<Set<string>>,
  conversation: Conversation,
  question: Question,
): Promise<{ reach: Map<string, { how: 'shares' | 'replies' | 'none'; words: number }>; matches: number }> {
  const names = await lexemes(conversation.speakers.join(' '));
  const asked = [...(await lexemes(question.text))].filter((word) => !names.has(word));
  const shared = await Promise.all(
    conversation.turns.map(async (turn) => {
      const words = await lexemes(turn.text);
      return asked.filter((word) => words.has(word)).length;
    }),
  );
  const index = new Map(conversation.turns.map((turn, at) => [turn.id, at]));
  const reach = new Map<string, { how: 'shares' | 'replies' | 'none'; words: number }>();
  for (const id of question.evidence) {
    const at = index.get(id)!;
    const how = shared[at]! > 0 ? 'shares' : at > 0 && shared[at - 1]! > 0 ? 'replies' : 'none';
    reach.set(id, { how, words: shared[at]! });
  }
  return { reach, matches: shared.filter((words) => words > 0).length };
}
