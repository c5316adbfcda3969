import { describe, expect, it } from 'vitest';
import { isToolPattern, matchesToolPattern } from './tool-pattern.js';

describe('tool patterns', () => {
  it('matches exact names and `*` prefixes, nothing else', () => {
    const patterns = ['charge_card', 'github__*'];
    expect(matchesToolPattern(patterns, 'charge_card')).toBe(true);
    expect(matchesToolPattern(patterns, 'github__create_issue')).toBe(true);
    expect(matchesToolPattern(patterns, 'github__')).toBe(true);
    expect(matchesToolPattern(patterns, 'charge_card_twice')).toBe(false);
    expect(matchesToolPattern(patterns, 'github_create_issue')).toBe(false);
    expect(matchesToolPattern(patterns, 'gitlab__create_issue')).toBe(false);
    expect(matchesToolPattern([], 'charge_card')).toBe(false);
  });

  it('`*` allows every tool; a `*` inside a name is literal', () => {
    expect(matchesToolPattern(['*'], 'anything')).toBe(true);
    expect(matchesToolPattern(['a*b'], 'axb')).toBe(false);
    expect(matchesToolPattern(['a*b'], 'a*b')).toBe(true);
    expect(isToolPattern('fs__*')).toBe(true);
    expect(isToolPattern('a*b')).toBe(false);
  });
});
