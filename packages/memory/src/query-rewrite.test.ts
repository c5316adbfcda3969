import { describe, expect, it } from 'vitest';
import { joinsNames, rewriteQuery } from './query-rewrite.js';

describe('rewriteQuery', () => {
  it('gives one query per name of two joined names, without question words', () => {
    expect(rewriteQuery('What puzzle do Maria and Evan both enjoy?')).toEqual([
      'Maria puzzle enjoy',
      'Evan puzzle enjoy',
    ]);
  });

  it('ends with the search for the things of the kind a question asks for (kinds.ts)', () => {
    const [maria, evan, kind] = rewriteQuery('What pastime do Maria and Evan both enjoy?');
    expect([maria, evan]).toEqual(['Maria pastime enjoy', 'Evan pastime enjoy']);
    expect(kind).toMatch(/^Maria Evan painting .*pottery/);
    expect(rewriteQuery('What pets does Maria have?')).toEqual([expect.stringMatching(/^Maria dog /)]);
  });

  it('gives one query per side of a comparison, each with the names of the question', () => {
    expect(rewriteQuery('Would Evan rather book a farm stay or a city break?')).toEqual([
      'Evan rather book a farm stay',
      'Evan a city break',
    ]);
  });

  it('gives one query per sentence of a question of several', () => {
    expect(rewriteQuery('When did Ana go to Lisbon? What did she buy there?')).toEqual([
      'Ana go to Lisbon',
      'she buy there',
    ]);
  });

  it('gives nothing for a question of one part, an empty query or a document', () => {
    expect(rewriteQuery('Where does Maria work now?')).toEqual([]);
    expect(rewriteQuery('')).toEqual([]);
    expect(rewriteQuery(`Ana and Ben ${'word '.repeat(200)}`)).toEqual([]);
  });
});

describe('joinsNames', () => {
  it('is true of two names joined, not of two options, one name or a document', () => {
    expect(joinsNames('What pastime do Maria and Evan both enjoy?')).toBe(true);
    expect(joinsNames('Did you ask Ana? What do Maria or Evan play?')).toBe(true);
    expect(joinsNames('Would Evan rather book a farm stay or a city break?')).toBe(false);
    expect(joinsNames('Where does Maria work now?')).toBe(false);
    expect(joinsNames(`Ana and Ben ${'word '.repeat(200)}`)).toBe(false);
  });
});
