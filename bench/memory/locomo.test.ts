import { describe, expect, it } from 'vitest';
import { readLocomo } from './locomo.js';

/** A sample in LoCoMo's shape (made up here: the dataset is not shipped). */
const sample = {
  sample_id: 'conv-1',
  conversation: {
    speaker_a: 'Ana',
    speaker_b: 'Ben',
    session_1_date_time: '1:56 pm on 8 May, 2023',
    session_1: [
      { speaker: 'Ana', dia_id: 'D1:1', text: 'I started pottery classes!' },
      { speaker: 'Ben', dia_id: 'D1:2', text: 'Nice, look at this.', blip_caption: 'a photo of a red bowl' },
    ],
    // Numbered with a gap, and listed out of order: read by number.
    session_4: [{ speaker: 'Ben', dia_id: 'D4:1', text: 'Sorry about the bowl.' }],
    session_4_date_time: '12:30 pm on 2 June, 2023',
    session_2_date_time: '9:05 am on 1 June, 2023',
    session_2: [{ speaker: 'Ana', dia_id: 'D2:1', text: 'The bowl cracked in the kiln.' }],
  },
  qa: [
    { question: 'What class did Ana start?', answer: 'pottery', evidence: ['D1:1'], category: 4 },
    { question: 'What happened to the bowl Ben showed?', answer: 'cracked', evidence: ['D1:2; D02:01'], category: 1 },
    { question: 'When did the bowl crack?', answer: 'June 2023', evidence: ['D2:1'], category: 2 },
    { question: 'Would Ana enjoy a ceramics fair?', answer: 'yes', evidence: ['D1:1'], category: 3 },
    { question: 'What did Ben paint?', adversarial_answer: 'a bowl', evidence: ['D1:2'], category: 5 },
    { question: 'What did Ana buy?', answer: 'clay', evidence: ['D9:9'], category: 4 },
  ],
};

describe('LoCoMo reader', () => {
  const { conversations, skipped } = readLocomo([sample]);
  const [conversation] = conversations;

  it('reads speakers, sessions, turns with their dates and photo captions', () => {
    expect(conversation!.speakers).toEqual(['Ana', 'Ben']);
    expect(conversation!.turns.map((turn) => [turn.id, turn.session, turn.speaker])).toEqual([
      ['D1:1', 1, 'Ana'],
      ['D1:2', 1, 'Ben'],
      ['D2:1', 2, 'Ana'],
      ['D4:1', 4, 'Ben'],
    ]);
    expect(new Date(conversation!.turns[0]!.at).toISOString()).toBe('2023-05-08T13:56:00.000Z');
    expect(new Date(conversation!.turns[1]!.at).toISOString()).toBe('2023-05-08T13:57:00.000Z');
    expect(new Date(conversation!.turns[2]!.at).toISOString()).toBe('2023-06-01T09:05:00.000Z');
    expect(new Date(conversation!.turns[3]!.at).toISOString()).toBe('2023-06-02T12:30:00.000Z');
    expect(conversation!.turns[1]!.text).toBe('Nice, look at this. [shares a photo: a photo of a red bowl]');
  });

  it('maps categories 1-4 to kinds, splits and normalises evidence ids, skips category 5 and dangling evidence', () => {
    expect(conversation!.questions).toEqual([
      { kind: 'single-hop', text: 'What class did Ana start?', evidence: ['D1:1'] },
      { kind: 'multi-hop', text: 'What happened to the bowl Ben showed?', evidence: ['D1:2', 'D2:1'] },
      { kind: 'temporal', text: 'When did the bowl crack?', evidence: ['D2:1'] },
      { kind: 'open-domain', text: 'Would Ana enjoy a ceramics fair?', evidence: ['D1:1'] },
    ]);
    expect(skipped).toEqual({ category: 1, noEvidence: 1 });
  });

  it('says what is wrong with a file that is not LoCoMo', () => {
    expect(() => readLocomo({})).toThrow(/expected an array/);
    expect(() => readLocomo([{ conversation: {} }])).toThrow(/no "conversation" or "qa"/);
    const undated = { ...sample, conversation: { ...sample.conversation, session_1_date_time: 'yesterday' } };
    expect(() => readLocomo([undated])).toThrow(/session 1 has no date/);
  });
});
