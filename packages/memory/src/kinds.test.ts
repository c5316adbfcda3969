import { describe, expect, it } from 'vitest';
import { kindQuery } from './kinds.js';
import { MAX_SUB_QUERIES, withKindQuery } from './query-rewrite.js';

describe('kindQuery', () => {
  it('searches the members of the kind a what or which question asks for, with its names', () => {
    const pets = kindQuery('What pets does Ana look after?')?.split(' ');
    expect(pets?.[0]).toBe('Ana');
    expect(pets).toEqual(expect.arrayContaining(['dog', 'puppy', 'cat', 'tortoise']));
    const music = kindQuery('Which kind of music do Ana and Ben have in common?')?.split(' ');
    expect(music?.slice(0, 2)).toEqual(['Ana', 'Ben']);
    expect(music).toEqual(expect.arrayContaining(['jazz', 'folk']));
    expect(kindQuery("What are Ana's pets' names?")).toContain('kitten');
    expect(kindQuery('Which sports has Ben tried since May?')).toContain('football');
  });

  it('asks for the hobbies when a what question asks what someone does for fun, in free time or to relax', () => {
    for (const question of [
      'What does Ana do for fun?',
      'What does Ben like doing in his spare time?',
      'What does Ana do to destress?',
    ]) {
      expect(kindQuery(question)).toMatch(/ painting .* pottery /);
    }
    expect(kindQuery('Did Ana have fun? Was it for fun?')).toBeUndefined();
  });

  it('joins the members of every kind asked for, once each', () => {
    const both = kindQuery('What sports and which hobbies does Ana have?')!.split(' ');
    expect(both).toEqual(expect.arrayContaining(['football', 'pottery']));
    expect(new Set(both).size).toBe(both.length);
  });

  it('fits a search: at most 4 names and 58 members, the commonest of each kind asked for', () => {
    const many = kindQuery('Which cities, countries, pets and games do Ana, Ben, Cleo, Dan and Eve know?')!.split(' ');
    expect(many.slice(0, 4)).toEqual(['Ana', 'Ben', 'Cleo', 'Dan']);
    expect(many).toHaveLength(4 + 58);
    expect(many).toEqual(expect.arrayContaining(['london', 'france', 'dog', 'chess']));
  });

  it('asks nothing of a question that does not ask which things: whether, where, or no kind', () => {
    expect(kindQuery('Would Ana enjoy a board game?')).toBeUndefined();
    expect(kindQuery('Does Ben play any sports?')).toBeUndefined();
    expect(kindQuery('Where does Ana work now?')).toBeUndefined();
    expect(kindQuery('What did Ben cook?')).toBeUndefined();
    expect(kindQuery('')).toBeUndefined();
  });
});

describe('withKindQuery', () => {
  it('adds the kind search last, within the sub-queries allowed', () => {
    const parts = ['a', 'b', 'c', 'd', 'e'];
    const withKind = withKindQuery('Which games does Ana play?', parts);
    expect(withKind).toHaveLength(MAX_SUB_QUERIES);
    expect(withKind.slice(0, -1)).toEqual(parts.slice(0, MAX_SUB_QUERIES - 1));
    expect(withKind.at(-1)).toContain('chess');
    expect(withKindQuery('Where does Ana work now?', parts)).toEqual(parts.slice(0, MAX_SUB_QUERIES));
  });

  it('adds nothing to a document pasted as a query', () => {
    expect(withKindQuery(`Which games does Ana play? ${'word '.repeat(200)}`, [])).toEqual([]);
  });
});
