import { describe, expect, it } from 'vitest';
import { bridgeQuery, feedbackSearch, speakersOf } from './bridge-query.js';

describe('bridgeQuery', () => {
  it('asks for the names the best episodes introduce, not the question’s words or the speakers', () => {
    const ranked = [
      { text: 'Ana: My cousin Rafi just moved to Leeds, tell Ben.' },
      { text: 'Ben: Thanks, Ana, Lena says hi. Hugo waves.' },
      { text: 'Ana: I met Tomas.' },
      { text: 'Ben: Hugo is fourth, never read.' },
    ];
    const speakers = speakersOf(ranked);
    expect(speakers).toEqual(new Set(['Ana', 'Ben']));
    expect(bridgeQuery("What did Ana's cousin who moved to Leeds open?", ranked, speakers)).toBe('Rafi Lena Tomas');
    expect(bridgeQuery('Where is Rafi now?', [{ text: 'Ana: Rafi moved to Leeds.' }], new Set(['Ana']))).toBe('Leeds');
    expect(bridgeQuery('anything', [{ text: 'ana: all lower case.' }], new Set())).toBeUndefined();
  });

  it('leaves weekdays out: they name a day, not someone to find', () => {
    const ranked = [{ text: 'Ana: We saw Rafi on Sunday, and the market is open on Saturdays.' }];
    expect(bridgeQuery('Who did Ana see?', ranked, new Set(['Ana']))).toBe('Rafi');
    expect(bridgeQuery('When?', [{ text: 'Ana: see you on Monday.' }], new Set(['Ana']))).toBeUndefined();
  });
});

describe('feedbackSearch', () => {
  const row = (id: string, text: string) => ({ id, text });
  it('searches the words the best episodes add and keeps the matches that share a rare one', async () => {
    const ranked = [row('s1', 'Ben: I play chess online every evening.'), row('s2', 'Ana: Ben, cards all evening.')];
    const everyday = Array.from({ length: 6 }, (_, i) => row(`e${i}`, `Ana: A quiet evening with cards, ${i}.`));
    const searched: Array<{ query: string; limit: number }> = [];
    const found = await feedbackSearch({
      query: 'Which game do Ana and Ben both play?',
      ranked,
      speakers: new Set(['Ana', 'Ben']),
      search: async (query, limit) => {
        searched.push({ query, limit });
        return [ranked[0]!, ...everyday, row('c', 'Ana: Chess in the park is my thing.'), ranked[1]!];
      },
      limit: 5,
    });
    // No question word, no speaker in the query; the sources are not returned; "evening" and
    // "cards" are said by many matches, "chess" by one.
    expect(searched).toEqual([{ query: 'i chess online every evening cards all', limit: 100 }]);
    expect(found.map((match) => match.id)).toEqual(['c']);
    const none = await feedbackSearch({
      query: 'What do Ana and Ben play?',
      ranked: [row('s', 'Ana: Ben play')],
      speakers: new Set(['Ana', 'Ben']),
      search: async () => {
        throw new Error('not searched');
      },
      limit: 5,
    });
    expect(none).toEqual([]);
  });
});
