import { formatIssues } from '@agentrix/core';
import { z } from 'zod';

/** Turn numbers of the session as the distiller was shown them (`[1]`, `[2]`, ...). */
const Evidence = z.array(z.number().int().min(1)).min(1);

/** One fact the small model drew from a session, with the turns that say it. */
export const DistilledFactSchema = z.object({
  /** Stable key, like `caroline.dog`: the same key in a later session updates the fact. */
  key: z.string().min(1).max(200),
  text: z.string().min(1).max(1000),
  evidence: Evidence,
});

/** What the small model returns for one session. */
export const DistillationSchema = z.object({
  /** What happened in the session, with dates; null for small talk. */
  summary: z
    .object({ text: z.string().min(1).max(2000), evidence: Evidence })
    .nullable()
    .default(null),
  facts: z.array(DistilledFactSchema).max(50).default([]),
});

export type DistilledFact = z.infer<typeof DistilledFactSchema>;
export type Distillation = z.infer<typeof DistillationSchema>;

/** The instructions given to the distilling model (a session transcript follows as the user message). */
export const DISTILL_INSTRUCTIONS = `You distill one session of a conversation into long-term memory. The user message is the
session: a date line, then numbered turns "[n] Name: text". Reply with one JSON object only, no prose:
{"summary": {"text": string, "evidence": number[]} | null,
 "facts": [{"key": string, "text": string, "evidence": number[]}]}
summary: what happened in the session, in the third person with names and absolute dates
(resolve "yesterday", "last Saturday" against the session date); null for small talk.
facts: what will still be worth knowing later (who people are, what they have, do, like, decided or agreed to),
each a self-contained sentence with names instead of pronouns that also says the general kind of a thing named
("Evan got a puppy, a golden retriever called Max: a new pet", "Ana tried surfing, a sport new to her"), so a
question about the kind finds it; a short reply that agrees to a suggestion is a fact about what was agreed.
key: a short stable key like "caroline.dog"; evidence: the numbers of the turns that say it, only those.`;

/** The session as the distiller reads it: a date line and numbered `[n] Name: text` turns. */
export function sessionTranscript(date: string, turns: readonly string[]): string {
  return [`Session of ${date}`, ...turns.map((turn, index) => `[${index + 1}] ${turn.replaceAll('\n', ' ')}`)].join(
    '\n',
  );
}

/** Parses a distiller's answer; evidence beyond the session's `turns` is an error the model can fix. */
export function parseDistillation(text: string, turns: number): { distillation: Distillation } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch (error) {
    return { error: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = DistillationSchema.safeParse(value);
  if (!parsed.success) return { error: formatIssues(parsed.error) };
  const cited = [...(parsed.data.summary?.evidence ?? []), ...parsed.data.facts.flatMap((fact) => fact.evidence)];
  const outside = cited.find((turn) => turn > turns);
  if (outside !== undefined)
    return { error: `evidence turn ${outside} does not exist: the session has ${turns} turns` };
  return { distillation: parsed.data };
}
