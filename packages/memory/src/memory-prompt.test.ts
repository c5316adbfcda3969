import { describe, expect, it } from 'vitest';
import {
  contextWindows,
  dayHeader,
  distinctLines,
  fillPrompt,
  MAX_CONTEXT_RADIUS,
  MAX_CONTEXT_TURNS,
  NO_CONTEXT,
  type PromptEpisode,
} from './memory-prompt.js';
import { estimateTokens } from './tokens.js';

const DAY = 86_400_000;
const MAY_8 = Date.UTC(2023, 4, 8, 13, 0);
let seq = 0;
const episode = (text: string, occurredAt: number): PromptEpisode => ({ id: `e${++seq}`, text, occurredAt, seq });

describe('fillPrompt', () => {
  it('spends the budget best first, prints in the order said under one header per day', () => {
    const a = episode('Ana: I adopted a beagle called Biscuit.', MAY_8);
    const b = episode('Ben: Take Biscuit to agility classes.', MAY_8 + 60_000);
    const c = episode('Ana: Yeah, good idea!', MAY_8 + 120_000);
    const d = episode('Ana: The shelter needs volunteers on Sundays.', MAY_8 - DAY);
    const filled = fillPrompt({
      facts: [{ id: 'f1', text: 'Ana has a dog' }],
      hits: [
        { episode: b, neighbours: [c] },
        { episode: d, neighbours: [] },
        { episode: a, neighbours: [] },
      ],
      recent: [],
      maxTokens: 1000,
      countTokens: estimateTokens,
    });
    expect(filled.text).toBe(
      [
        'Known facts:',
        '- Ana has a dog',
        'Earlier conversations:',
        dayHeader(MAY_8 - DAY),
        d.text,
        dayHeader(MAY_8),
        a.text,
        b.text,
        c.text,
      ].join('\n'),
    );
    expect(dayHeader(MAY_8)).toBe('[2023-05-08 Mon]');
    expect(filled.episodes).toEqual([d, a, b, c]);
    expect(filled.tokens).toBe(estimateTokens(filled.text));
  });

  it('keeps the hit without its neighbours when they do not fit, and never exceeds the budget', () => {
    const hit = episode('Ben: Take Biscuit to agility classes.', MAY_8);
    const long = episode(`Ana: ${'so much to say '.repeat(20)}`, MAY_8 + 60_000);
    const budget =
      estimateTokens('Earlier conversations:') + estimateTokens(dayHeader(MAY_8)) + estimateTokens(hit.text) + 3;
    const filled = fillPrompt({
      facts: [],
      hits: [{ episode: hit, neighbours: [long] }],
      recent: [],
      maxTokens: budget,
      countTokens: estimateTokens,
    });
    expect(filled.episodes).toEqual([hit]);
    for (let maxTokens = 0; maxTokens < 60; maxTokens++) {
      const some = fillPrompt({
        facts: [{ id: 'f', text: 'A fact of several words' }],
        hits: [{ episode: hit, neighbours: [long] }],
        recent: [episode('Ana: bye', MAY_8 + DAY)],
        maxTokens,
        countTokens: estimateTokens,
      });
      expect(some.tokens).toBeLessThanOrEqual(maxTokens);
      expect(estimateTokens(some.text)).toBe(some.tokens);
    }
  });

  it('fills what the hits and recent episodes left with the rest, in its order, never displacing a hit', () => {
    const hits = [1, 2].map((n) => ({ episode: episode(`Ana: match ${n}`, MAY_8 + n), neighbours: [] }));
    const long = episode(`Ben: ${'a long answer '.repeat(6)}`, MAY_8 + 10);
    const short = episode('Ben: short answer', MAY_8 + 11);
    const all = fillPrompt({
      facts: [],
      hits,
      recent: [],
      rest: [long, short],
      maxTokens: 1000,
      countTokens: estimateTokens,
    });
    expect(all.episodes).toEqual([hits[0]!.episode, hits[1]!.episode, long, short]);
    const cost = (texts: string[]) => texts.reduce((sum, text) => sum + estimateTokens(text) + 1, 0);
    const budget = cost(['Earlier conversations:', dayHeader(MAY_8), 'Ana: match 1', 'Ana: match 2', short.text]);
    const some = fillPrompt({
      facts: [],
      hits,
      recent: [],
      rest: [long, short],
      maxTokens: budget,
      countTokens: estimateTokens,
    });
    expect(some.episodes).toEqual([hits[0]!.episode, hits[1]!.episode, short]);
  });

  it('keeps the best ranked of episodes that print the same line', () => {
    const bye = episode('Ben: Bye! Take care.', MAY_8);
    const again = episode('Ben: Bye! Take care.', MAY_8 + DAY);
    const other = episode('Ana: Bye! Take care.', MAY_8 + DAY);
    const museum = episode('Ben: Take the kids to the museum.', MAY_8 - DAY);
    expect(distinctLines([bye, again, other, museum])).toEqual([bye, other, museum]);
  });

  it('drops the last items when the whole text counts more than its lines (a tokenizer merging lines)', () => {
    const hits = [1, 2, 3].map((n) => ({ episode: episode(`Ana: line ${n}`, MAY_8 + n), neighbours: [] }));
    // Counts each line as 1 token but a whole text as one token per character.
    const countTokens = (text: string) => (text.includes('\n') ? text.length : 1);
    const filled = fillPrompt({ facts: [], hits, recent: [], maxTokens: 40, countTokens });
    expect(filled.tokens).toBeLessThanOrEqual(40);
    expect(filled.episodes.length).toBeLessThan(3);
  });
});

describe('contextWindows', () => {
  it('reads nothing when the leftover holds less than one line of the matches, or nothing matched', () => {
    expect(contextWindows(30, 1000, 0)).toEqual(NO_CONTEXT);
    expect(contextWindows(30, 1200, 39)).toEqual(NO_CONTEXT);
    expect(contextWindows(0, 0, 1000)).toEqual(NO_CONTEXT);
  });

  it("reads as many turns as the leftover holds at the matches' average line, around the best of them", () => {
    // 19 matches of ~32 tokens leave 400: ~13 turns, one on each side of the best 7.
    expect(contextWindows(19, 600, 400)).toEqual({ hits: 7, radius: 1 });
    // 4 short matches leave ~72 turns: 10 on each side of each.
    expect(contextWindows(4, 60, 1087)).toEqual({ hits: 4, radius: 10 });
    // One match: as wide as the leftover, up to the radius's cap.
    expect(contextWindows(1, 10, 990)).toEqual({ hits: 1, radius: MAX_CONTEXT_RADIUS });
  });

  it('never reads more than MAX_CONTEXT_TURNS, whatever the budget', () => {
    expect(contextWindows(400, 4000, 1e9)).toEqual({ hits: MAX_CONTEXT_TURNS / 2, radius: 1 });
    for (const matches of [1, 2, 3, 7, 19, 50, 150, 199, 200, 201, 400]) {
      for (const tokens of [matches, matches * 12, matches * 40]) {
        for (const leftover of [tokens / matches, 100, tokens * 3, 1e6, 1e12]) {
          const { hits, radius } = contextWindows(matches, tokens, leftover);
          expect(hits).toBeGreaterThanOrEqual(1);
          expect(hits).toBeLessThanOrEqual(matches);
          expect(radius).toBeGreaterThanOrEqual(1);
          expect(radius).toBeLessThanOrEqual(MAX_CONTEXT_RADIUS);
          expect(2 * hits * radius).toBeLessThanOrEqual(MAX_CONTEXT_TURNS);
        }
      }
    }
  });
});
