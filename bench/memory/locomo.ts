import type { Conversation, QuestionKind, Turn } from './conversation.js';

/**
 * Reads LoCoMo (Maharana et al., ACL 2024; `data/locomo10.json` of snap-research/locomo, CC BY-NC
 * 4.0: not shipped here) into the bench's `Conversation`s, so `run.ts recall` measures the real
 * held-out set the same way as its own generator (`MEMORY_BENCH_LOCOMO=<file>`).
 *
 * The file is an array of samples: `conversation` holds `speaker_a`, `speaker_b`, and for each
 * session N `session_N_date_time` ("1:56 pm on 8 May, 2023") and `session_N` (turns of `speaker`,
 * `dia_id` "D1:3", `text`, and for a shared photo `blip_caption`); `qa` holds `question`,
 * `evidence` (dia ids) and `category`: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5
 * adversarial (the numbering of the dataset's own evaluation code; category 5 asks what was never
 * said and is left out). A turn's time is its session's plus a minute a turn; a photo's caption is
 * kept in its turn, as `[shares a photo: <caption>]`. Evidence ids the conversation lacks (a few
 * annotations name turns that do not exist) are dropped; a question left with none is skipped.
 */
export interface LocomoOptions {
  /** Categories to keep (default 1-4). */
  categories?: readonly number[];
}

const KINDS: Record<number, QuestionKind> = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' };

export interface LocomoRead {
  conversations: Conversation[];
  /** Questions left out: category 5 or another not asked for, or no evidence turn that exists. */
  skipped: { category: number; noEvidence: number };
}

export function readLocomo(data: unknown, options: LocomoOptions = {}): LocomoRead {
  if (!Array.isArray(data)) throw new Error('LoCoMo: expected an array of samples (data/locomo10.json)');
  const categories = new Set(options.categories ?? [1, 2, 3, 4]);
  const skipped = { category: 0, noEvidence: 0 };
  const conversations = data.map((sample: unknown, index): Conversation => {
    const { conversation, qa } = (sample ?? {}) as { conversation?: Record<string, unknown>; qa?: unknown };
    if (conversation === undefined || !Array.isArray(qa)) {
      throw new Error(`LoCoMo: sample ${index} has no "conversation" or "qa"`);
    }
    const speakers: [string, string] = [String(conversation.speaker_a), String(conversation.speaker_b)];
    const turns: Turn[] = [];
    // Sessions by number (a gap in the numbering skips nothing).
    const sessions = Object.keys(conversation)
      .map((key) => /^session_(\d+)$/.exec(key)?.[1])
      .filter((number): number is string => number !== undefined && Array.isArray(conversation[`session_${number}`]))
      .map(Number)
      .sort((a, b) => a - b);
    for (const session of sessions) {
      const start = sessionTime(String(conversation[`session_${session}_date_time`] ?? ''), session, index);
      const said = conversation[`session_${session}`] as Array<Record<string, unknown>>;
      said.forEach((turn, at) => {
        const caption = typeof turn.blip_caption === 'string' ? ` [shares a photo: ${turn.blip_caption}]` : '';
        turns.push({
          id: diaId(String(turn.dia_id)) ?? `D${session}:${at + 1}`,
          session,
          speaker: String(turn.speaker),
          text: `${String(turn.text ?? '')}${caption}`.trim(),
          at: start + at * 60_000,
        });
      });
    }
    const ids = new Set(turns.map((turn) => turn.id));
    const questions: Conversation['questions'] = [];
    for (const item of qa as Array<Record<string, unknown>>) {
      const kind = KINDS[Number(item.category)];
      if (kind === undefined || !categories.has(Number(item.category))) {
        skipped.category++;
        continue;
      }
      const evidence = [
        ...new Set(
          (Array.isArray(item.evidence) ? item.evidence : [])
            .flatMap((entry: unknown) => String(entry).split(/[;,\s]+/))
            .map(diaId)
            .filter((id): id is string => id !== undefined && ids.has(id)),
        ),
      ];
      if (evidence.length === 0) {
        skipped.noEvidence++;
        continue;
      }
      questions.push({ kind, text: String(item.question), evidence });
    }
    return { seed: index, split: 'held-out', speakers, turns, questions };
  });
  return { conversations, skipped };
}

/** `D1:3`, `d01:03` -> `D1:3`; anything else `undefined`. */
function diaId(text: string): string | undefined {
  const match = /^D(\d+):(\d+)$/i.exec(text.trim());
  return match ? `D${Number(match[1])}:${Number(match[2])}` : undefined;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "1:56 pm on 8 May, 2023" -> epoch ms (UTC). */
function sessionTime(text: string, session: number, sample: number): number {
  const match = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  const month = match ? MONTHS.indexOf(match[5]!.toLowerCase()) : -1;
  if (!match || month < 0) {
    throw new Error(`LoCoMo: sample ${sample} session ${session} has no date ("${text}")`);
  }
  const hour = (Number(match[1]) % 12) + (match[3]!.toLowerCase() === 'pm' ? 12 : 0);
  return Date.UTC(Number(match[6]), month, Number(match[4]), hour, Number(match[2]));
}
