import { describe, expect, it } from 'vitest';
import { askedPeople, asksPreference, disclosureScore, disclosures } from './disclosure.js';

describe('asksPreference', () => {
  it('is true for a question about what a person would like or is like, false for a fact', () => {
    for (const question of [
      'Would Ana prefer a quiet night in or a club night?',
      'Would Ben likely accept a job that involves a lot of travel?',
      'Is Ana more of an active person or a homebody?',
      'What kind of music does Ben enjoy?',
      'What might Ana think of a farm stay?',
      'What pastime do Ana and Ben both enjoy?',
      'What hobby do both Ana and Ben share?',
      "What are Ben's interests?",
      'What activities has Ana done with her family?',
      'What does Ben do for fun?',
      'What does Ana do in her spare time?',
    ])
      expect(asksPreference(question), question).toBe(true);
    for (const question of ['When did Ana adopt the dog?', 'What did Ben agree to get for the cats?'])
      expect(asksPreference(question), question).toBe(false);
  });
});

describe('askedPeople', () => {
  it('names the speakers the question names, not its first word or its other capitalised words', () => {
    const speakers = new Set(['Ana', 'Ben', 'Would']);
    expect(askedPeople("Would Ana like Ben's cousin in Leeds?", speakers)).toEqual(['Ana', 'Ben']);
    expect(askedPeople('Would Cleo like it?', speakers)).toEqual([]);
  });
});

describe('disclosureScore', () => {
  it('counts the kinds of marker a first-person sentence says; 0 about the listener or without the first person', () => {
    expect(disclosureScore('I could spend the whole day around animals, they calm me down more than anything.')).toBe(
      3,
    );
    expect(disclosureScore('I love slowing down.')).toBe(1);
    expect(disclosureScore('Puzzles are my secret addiction, I just finished a map of the world.')).toBe(1);
    expect(disclosureScore("I'm hooked on crosswords.")).toBe(1);
    expect(disclosureScore('A friend of hers is obsessed with sport.')).toBe(0);
    expect(disclosureScore('I love how you always make time for your family.')).toBe(0);
    expect(disclosureScore('She loves the hills and always walks there.')).toBe(0);
    expect(disclosureScore('I went to the shop.')).toBe(0);
  });
});

describe('disclosures', () => {
  it('keeps the asked people’s disclosing lines, the most marked first (by their best sentence)', () => {
    const rows = [
      { text: 'Ana: I need milk.' },
      { text: 'Ben: I always need a walk, I love the hills.' },
      { text: 'Ana: The bus was late. I always feel calm by the sea, more than anywhere.' },
      { text: 'Ana: The bus was late.' },
      { text: 'no speaker: I love it.' },
    ];
    expect(disclosures(rows, ['Ana']).map((row) => row.text)).toEqual([
      'Ana: The bus was late. I always feel calm by the sea, more than anywhere.',
      'Ana: I need milk.',
    ]);
    expect(disclosures(rows, ['Ben']).map((row) => row.text)).toEqual(['Ben: I always need a walk, I love the hills.']);
  });
});
