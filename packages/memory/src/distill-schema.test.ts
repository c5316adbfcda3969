import { describe, expect, it } from 'vitest';
import { parseDistillation, sessionTranscript } from './distill-schema.js';
import { splitSessions } from './distiller.js';

describe('distillation helpers', () => {
  it('cuts sessions at idle gaps and at the turn limit', () => {
    const at = (minutes: number[]) => minutes.map((minute) => ({ occurred_at: minute * 60_000, minute }));
    const sessions = splitSessions(at([0, 1, 2, 40, 41, 42, 43, 44]), 30 * 60_000, 3);
    expect(sessions.map((session) => session.map((turn) => turn.minute))).toEqual([
      [0, 1, 2],
      [40, 41, 42],
      [43, 44],
    ]);
    expect(splitSessions([], 1, 1)).toEqual([]);
  });

  it('numbers the turns of a transcript on one line each', () => {
    expect(sessionTranscript('2023-05-08 Mon', ['Ana: hi', 'Ben: a\nb'])).toBe(
      'Session of 2023-05-08 Mon\n[1] Ana: hi\n[2] Ben: a b',
    );
  });

  it('accepts fenced JSON and rejects what the model can fix, saying what is wrong', () => {
    const answer = { summary: null, facts: [{ key: 'ana.dog', text: 'Ana has a beagle', evidence: [1, 2] }] };
    expect(parseDistillation(`\`\`\`json\n${JSON.stringify(answer)}\n\`\`\``, 2)).toEqual({ distillation: answer });
    expect(parseDistillation('{}', 1)).toEqual({ distillation: { summary: null, facts: [] } });
    expect(parseDistillation('nope', 2)).toMatchObject({ error: expect.stringContaining('not valid JSON') });
    const noEvidence = { facts: [{ key: 'k', text: 't', evidence: [] }] };
    expect(parseDistillation(JSON.stringify(noEvidence), 2)).toMatchObject({
      error: expect.stringContaining('evidence'),
    });
    expect(parseDistillation(JSON.stringify(answer), 1)).toEqual({
      error: 'evidence turn 2 does not exist: the session has 1 turns',
    });
  });
});
