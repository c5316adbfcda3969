import { describe, expect, it } from 'vitest';
import { bridgeQuery, speakersOf } from './bridge-query.js';

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
});
