/**
 * Things of a kind, for search. A question that asks for things of a kind names the kind ("What
 * pets does Ana have?", "Which sports has Ben tried?", "What kind of music do they like?"), and
 * the answer was said with the things ("We got a puppy", "I joined a football team", "old jazz
 * records"): no word in common. Such a question is also searched with the common members of its
 * kind ({@link kindQuery}), as the rewrite model is asked to do (REWRITE_INSTRUCTIONS); nothing
 * changes in what is stored.
 *
 * Each entry is the kind's nouns (singular and plural, as a question says them), then its
 * members, commonest first: written from general knowledge, one word for each (the word that
 * tells it apart: "guinea" for a guinea pig, "pong" for ping pong), one form (the stemmer joins
 * regular plurals). A member absent from a conversation costs nothing: a search drops the words
 * its scope lacks; a common one ("house", "run") weighs little, as every common word does.
 * Titles (books, films) cannot be listed: those kinds list their genres only.
 */
import { NAME } from './text.js';

const KINDS = `pet pets animal animals: dog puppy pup cat kitten kitty hamster gerbil guinea rabbit bunny
parrot budgie cockatiel canary bird goldfish fish aquarium turtle tortoise snake python lizard gecko
iguana dragon chameleon axolotl frog ferret hedgehog chinchilla horse pony donkey goat chicken hen duck
mouse mice rat tarantula spider labrador retriever poodle spaniel terrier collie beagle husky pug
|instrument instruments: guitar piano keyboard violin fiddle viola cello bass drum flute piccolo
clarinet saxophone sax trumpet trombone horn tuba ukulele uke harp harmonica banjo mandolin accordion
oboe bassoon xylophone synth synthesizer bagpipes recorder organ bongos cajon
|sport sports: football soccer basketball baseball softball tennis golf rugby cricket hockey volleyball
badminton squash swimming swim running run jogging cycling biking surfing skiing snowboarding skating
climbing bouldering boxing kickboxing karate judo taekwondo rowing kayaking canoeing sailing marathon
triathlon netball lacrosse fencing wrestling gymnastics pong bowling archery curling polo diving
skateboarding pickleball frisbee handball dodgeball
|martial: karate judo taekwondo kickboxing boxing jitsu kung aikido muay capoeira krav kendo wing
chun hapkido wrestling sambo fencing
|game games: chess checkers draughts poker blackjack bridge rummy cribbage solitaire scrabble monopoly
catan risk cluedo clue pictionary charades uno jenga mahjong sudoku crossword wordle cards dominoes
backgammon darts pool billiards bingo trivia quiz minecraft fortnite zelda mario pokemon tetris sims
roblox fifa halo stardew dungeons dragons tabletop console playstation xbox nintendo switch
|music genre genres: jazz blues classical pop folk country bluegrass hip hop rap metal punk rock grunge
reggae ska soul funk motown techno house trance dubstep edm electronic disco indie emo opera gospel
orchestra choir symphony latin salsa samba bossa flamenco kpop synthwave lofi acoustic
|hobby hobbies pastime pastimes activity activities: painting drawing sketching pottery ceramics
knitting crochet sewing quilting embroidery gardening cooking baking reading writing journaling
poetry photography hiking camping fishing dancing singing yoga meditation chess puzzles woodworking
birdwatching volunteering running swimming cycling climbing surfing calligraphy scrapbooking
geocaching origami skating crafts collecting stamps kayaking gaming
|city cities: london paris rome madrid barcelona lisbon porto seville berlin munich vienna prague
budapest amsterdam brussels dublin edinburgh copenhagen stockholm oslo helsinki reykjavik athens
istanbul venice florence milan naples krakow tokyo kyoto seoul beijing shanghai bangkok singapore
dubai marrakech cairo sydney melbourne toronto vancouver montreal chicago boston seattle miami york
francisco orleans vegas angeles austin nashville denver portland
|country countries: france spain italy portugal germany austria greece ireland scotland england wales
mexico canada brazil argentina peru chile colombia cuba japan china korea india thailand vietnam
indonesia bali philippines australia zealand egypt morocco kenya tanzania africa iceland norway
sweden denmark finland netherlands belgium switzerland croatia turkey poland hungary czech
|food foods dish dishes meal meals cuisine recipe recipes: pasta spaghetti carbonara pizza lasagne
lasagna risotto paella curry sushi tacos burritos enchiladas burgers stew soup chowder salad roast
pie quiche cake bread pancakes waffles dumplings noodles ramen pho stir fry casserole chili barbecue
bbq steak kebab falafel hummus omelette shakshuka jambalaya gumbo pierogi tagine biryani lamb
|drink drinks beverage beverages: coffee espresso latte cappuccino tea chai matcha chocolate cocoa
wine beer cider cocktail margarita mojito sangria prosecco champagne whisky whiskey gin vodka rum
tequila juice smoothie lemonade soda kombucha milkshake
|books novel novels: novel book memoir biography poetry fantasy thriller mystery romance
|movie movies film films series: movie film documentary series comedy thriller horror drama anime
cartoon sitcom
|art artwork artworks: painting drawing sculpture pottery photography sketch portrait mural
|car cars vehicle vehicles: car truck van minivan suv motorbike motorcycle bike scooter jeep
convertible camper rv boat sailboat kayak tractor`;

/** Each noun of a kind -> the kind's members. */
const MEMBERS: ReadonlyMap<string, readonly string[]> = new Map(
  KINDS.split('|').flatMap((entry) => {
    const [nouns = '', members = ''] = entry.split(':');
    const list = members.trim().split(/\s+/);
    return nouns
      .trim()
      .split(/\s+/)
      .map((noun) => [noun, list] as const);
  }),
);

const WORD = /[\p{L}'’]+/gu;
/**
 * Members and names searched at most: a search takes 64 of a query's stems (MAX_QUERY_TERMS in
 * lexical-search.ts), the first in alphabetical order, so a longer query would lose names and members.
 */
const MAX_MEMBERS = 58;
const MAX_NAMES = 4;
/** The words that ask for things: a kind named after one is asked for. */
const ASKING = new Set(['what', 'which']);
/** Phrases that ask for the hobbies as their noun does ("What does Ana do for fun?"). */
const HOBBY_PHRASE = /\b(?:for fun|(?:free|spare) time|to (?:relax|unwind|de-?stress))\b/i;

/**
 * A search for the members of the kinds a question asks for, with the question's names ("What
 * pets does Ana have?", "Which kind of music do Ana and Ben like?" -> "Ana dog puppy ..."),
 * or undefined when it asks for none. A kind is asked for when it is named after "what" or
 * "which" (the hobbies also by "for fun", "in her free time", "to relax" in such a question):
 * "Would Ana enjoy a board game?" asks whether, not which, and its answer says how she feels,
 * not what she plays (bench/memory: such a question expanded lost its evidence to the
 * games said in the conversation).
 */
export function kindQuery(query: string): string | undefined {
  // Without the possessive: "Ana's pets' names" asks for Ana's pets.
  const words = (query.match(WORD) ?? []).map((word) => word.replace(/['’]s?$/u, ''));
  const kinds = new Set<readonly string[]>();
  let asking = false;
  for (const word of words) {
    const lower = word.toLowerCase();
    asking ||= ASKING.has(lower);
    const members = asking ? MEMBERS.get(lower) : undefined;
    if (members) kinds.add(members);
  }
  if (asking && HOBBY_PHRASE.test(query)) kinds.add(MEMBERS.get('hobbies')!);
  if (kinds.size === 0) return undefined;
  // Each kind's members in turn, so that a question asking for two gets the commonest of both.
  const members = new Set<string>();
  const lists = [...kinds];
  for (let at = 0; members.size < MAX_MEMBERS && lists.some((list) => at < list.length); at++) {
    for (const list of lists) if (at < list.length && members.size < MAX_MEMBERS) members.add(list[at]!);
  }
  const names = words.filter((word, index) => index > 0 && NAME.test(word) && !MEMBERS.has(word.toLowerCase()));
  return [...[...new Set(names)].slice(0, MAX_NAMES), ...members].join(' ');
}
