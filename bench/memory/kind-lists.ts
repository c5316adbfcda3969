import { readFileSync } from 'node:fs';
import type { Split } from './conversation.js';
import type { List, ListItem } from './topics.js';

/**
 * Lists of things of a kind whose items were written apart from the search that looks for them
 * (`kind-items.json`: chat lines by helper agents that had not read this repository, each naming
 * one thing of a kind without the kind's word: "We adopted a little kitten from the shelter on
 * Saturday!"). The tuning split's lines were written first and widened packages/memory's list of
 * kinds (kinds.ts); the held-out split's were written after that list was frozen and never
 * changed it. Each question is asked as LoCoMo asks its list questions.
 */
const QUESTIONS: Record<string, string> = {
  pets: 'What pets does {A} have?',
  'musical instruments': 'What instruments does {A} play?',
  sports: 'What sports has {A} tried?',
  'martial arts': 'What martial arts has {A} done?',
  games: 'What games does {A} play?',
  'kinds of music': 'What kind of music does {A} listen to?',
  'hobbies/activities': 'What activities does {A} partake in?',
  'cities visited': 'Which cities has {A} been to?',
  'countries visited': 'Which countries has {A} visited?',
  'foods/dishes cooked': 'What dishes has {A} made?',
  drinks: 'What drinks does {A} enjoy?',
  'books read': 'What books has {A} read?',
  'films/shows watched': 'What films and shows has {A} watched?',
  vehicles: 'What vehicles has {A} had?',
};

interface KindItems {
  tuning: Record<string, Array<{ text: string; member: string }>>;
  'held-out': Record<string, Array<{ text: string; member: string }>>;
}

const ITEMS = JSON.parse(readFileSync(new URL('./kind-items.json', import.meta.url), 'utf8')) as KindItems;

/** The split's lines of each kind, and its question about `name`. */
export function kindItems(split: Split, name: string): Array<{ kind: string; question: string; lines: string[] }> {
  return Object.entries(ITEMS[split]).map(([kind, lines]) => ({
    kind,
    question: (QUESTIONS[kind] ?? '').replace('{A}', name),
    lines: lines.map((line) => line.text),
  }));
}

/** Every kind of the split's lines, each a list of three of its lines drawn with `int`, in a drawn order. */
export function kindLists(split: Split, int: (below: number) => number): List[] {
  const lists = Object.entries(ITEMS[split]).map(([kind, lines]): List => {
    const question = QUESTIONS[kind];
    if (question === undefined) throw new Error(`kind-items.json: no question for the kind "${kind}"`);
    const left = [...lines];
    const draw = (): ListItem => ({ text: left.splice(int(left.length), 1)[0]!.text });
    return { question, items: [draw(), draw(), draw()] };
  });
  // Shuffled, so each conversation asks about other kinds.
  for (let at = lists.length - 1; at > 0; at--) {
    const other = int(at + 1);
    [lists[at], lists[other]] = [lists[other]!, lists[at]!];
  }
  return lists;
}
