// A generator of long multi-session dialogues: facts planted early, distractors between
// (chatter and near-misses that share the facts' words), questions asked in the last session.

export interface PlantedFact {
  key: string;
  /** The user's message that plants it. */
  statement: string;
  /** The question asked late. */
  question: string;
  /** The answer: a retrieved memory holds the evidence when it contains this. */
  answer: string;
}

export interface DialogueTurn {
  session: number;
  user: string;
  assistant: string;
  /** Set when the turn plants a fact (the summary model would list it as stable). */
  fact?: PlantedFact;
}

export interface Dialogue {
  turns: DialogueTurn[];
  facts: PlantedFact[];
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

const RELATIVES = [
  'sister',
  'brother',
  'cousin',
  'dentist',
  'landlord',
  'manager',
  'neighbour',
  'coach',
  'doctor',
  'tutor',
];
const THINGS = ['colour', 'film', 'band', 'dish', 'book', 'city', 'sport', 'flower', 'painter', 'game'];
const ITEMS = [
  'passport',
  'spare keys',
  'bike lock',
  'tax papers',
  'camera',
  'umbrella',
  'charger',
  'guitar',
  'tent',
  'wallet',
];
const PLACES = [
  'blue drawer',
  'garage shelf',
  'attic box',
  'kitchen cupboard',
  'car boot',
  'hall closet',
  'desk tray',
  'wardrobe',
  'basement',
  'shoe rack',
];
const NAMES = [
  'Zelda',
  'Oskar',
  'Priya',
  'Mateo',
  'Ingrid',
  'Kwame',
  'Lucia',
  'Tobias',
  'Anouk',
  'Ravi',
  'Sigrid',
  'Yusuf',
];
const VALUES = [
  'teal',
  'Casablanca',
  'Radiohead',
  'ramen',
  'Dune',
  'Lisbon',
  'curling',
  'tulips',
  'Vermeer',
  'chess',
  'ochre',
  'Kyoto',
];
const CHATTER = [
  'The weather was grey all morning and then it cleared up.',
  'I spent the afternoon cleaning out old emails.',
  'Traffic on the way home was terrible again.',
  'Can you suggest a quick lunch idea?',
  'I watched a documentary about deep sea creatures.',
  'Work was busy, lots of meetings today.',
  'I am thinking about learning to bake bread.',
  'The train was twenty minutes late this morning.',
];

/** `sessions` sessions of `turnsPerSession` turns; `facts` facts planted in the first third. */
export function generateDialogue(options: {
  sessions: number;
  turnsPerSession: number;
  facts: number;
  seed?: number;
}): Dialogue {
  const next = random(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const facts: PlantedFact[] = [];
  for (let index = 0; index < options.facts; index++) {
    const kind = index % 3;
    const slot = Math.floor(index / 3) % 10;
    const variant = Math.floor(index / 30);
    if (kind === 0) {
      const who = RELATIVES[slot]!;
      const name = `${pick(NAMES)}${variant > 0 ? `-${variant}` : ''}`;
      facts.push({
        key: `name.${who}.${variant}`,
        statement: `By the way, my ${variant > 0 ? `${variant}. ` : ''}${who}'s name is ${name}.`,
        question: `What is my ${variant > 0 ? `${variant}. ` : ''}${who}'s name?`,
        answer: name,
      });
    } else if (kind === 1) {
      const thing = THINGS[slot]!;
      const value = `${pick(VALUES)}${variant > 0 ? `-${variant}` : ''}`;
      facts.push({
        key: `favourite.${thing}.${variant}`,
        statement: `My favourite ${thing}${variant > 0 ? ` number ${variant}` : ''} is ${value}.`,
        question: `What is my favourite ${thing}${variant > 0 ? ` number ${variant}` : ''}?`,
        answer: value,
      });
    } else {
      const item = ITEMS[slot]!;
      const place = `${PLACES[(slot + variant) % 10]!}${variant > 0 ? ` ${variant}` : ''}`;
      facts.push({
        key: `place.${item.replace(' ', '_')}.${variant}`,
        statement: `I keep my ${item}${variant > 0 ? ` set ${variant}` : ''} in the ${place}.`,
        question: `Where do I keep my ${item}${variant > 0 ? ` set ${variant}` : ''}?`,
        answer: place,
      });
    }
  }
  const turns: DialogueTurn[] = [];
  const total = options.sessions * options.turnsPerSession;
  const plantBefore = Math.floor(total / 3);
  const plantAt = new Map<number, PlantedFact>();
  for (const [index, fact] of facts.entries()) plantAt.set(Math.floor((index * plantBefore) / facts.length), fact);
  for (let index = 0; index < total; index++) {
    const session = Math.floor(index / options.turnsPerSession);
    const fact = plantAt.get(index);
    if (fact) {
      turns.push({ session, user: fact.statement, assistant: 'Got it, I will remember that.', fact });
      continue;
    }
    // Near-miss distractors share the facts' words without their answers.
    const roll = next();
    const user =
      roll < 0.4
        ? `My friend says her favourite ${pick(THINGS)} changes every year.`
        : roll < 0.55
          ? `Do you know where people usually keep a ${pick(ITEMS)}?`
          : pick(CHATTER);
    turns.push({ session, user, assistant: `I see. ${pick(CHATTER)}` });
  }
  return { turns, facts };
}
