import { describe, expect, it } from 'vitest';
import { generateDialogue } from './dialogue.js';

describe('memory bench dialogue', () => {
  it('plants every fact once, in the first third, with its answer in the statement', () => {
    const dialogue = generateDialogue({ sessions: 10, turnsPerSession: 30, facts: 45 });
    expect(dialogue.turns).toHaveLength(300);
    const planted = dialogue.turns.map((turn, index) => ({ turn, index })).filter(({ turn }) => turn.fact);
    expect(planted).toHaveLength(45);
    expect(planted.every(({ index }) => index < 100)).toBe(true);
    expect(new Set(dialogue.facts.map((fact) => fact.key)).size).toBe(45);
    for (const fact of dialogue.facts) expect(fact.statement).toContain(fact.answer);
    expect(generateDialogue({ sessions: 10, turnsPerSession: 30, facts: 45 })).toEqual(dialogue);
  });
});
