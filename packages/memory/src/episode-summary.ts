import { z } from 'zod';

/** A stable fact the summary model found: a preference, a rule, an explanation of configuration. */
export const StableFactSchema = z.object({
  key: z.string().min(1).max(200),
  text: z.string().min(1),
});

/** The structured summary of one episode (a turn or a task), as the small model writes it. */
export const EpisodeSummarySchema = z.object({
  /** When it happened, as the conversation says (the row also keeps the write time). */
  time: z.string().optional(),
  topic: z.string().min(1),
  conclusions: z.array(z.string()).default([]),
  actionItems: z.array(z.string()).default([]),
  openItems: z.array(z.string()).default([]),
  /** Key parameters mentioned (names, numbers, settings). */
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  tags: z.array(z.string()).default([]),
  /** Facts that will still be true next time (empty for small talk): these become semantic memory. */
  stableFacts: z.array(StableFactSchema).default([]),
});

export type EpisodeSummary = z.infer<typeof EpisodeSummarySchema>;
export type StableFact = z.infer<typeof StableFactSchema>;

/** The instructions given to the summary model. */
export const SUMMARY_INSTRUCTIONS = `You write the memory of a conversation. Reply with one JSON object only, no prose:
{"time"?: string, "topic": string, "conclusions": string[], "actionItems": string[], "openItems": string[],
 "parameters": {name: string|number|boolean}, "tags": string[],
 "stableFacts": [{"key": string, "text": string}]}
stableFacts: only facts that will still hold in later conversations (preferences, rules, settings, names),
each with a short stable key like "user.favourite_color"; leave it empty when nothing is stable.`;

/** An episode summary as one searchable text. */
export function renderSummary(summary: EpisodeSummary): string {
  const lines = [`Topic: ${summary.topic}`];
  if (summary.time) lines.push(`Time: ${summary.time}`);
  if (summary.conclusions.length > 0) lines.push(`Conclusions: ${summary.conclusions.join('; ')}`);
  if (summary.actionItems.length > 0) lines.push(`Action items: ${summary.actionItems.join('; ')}`);
  if (summary.openItems.length > 0) lines.push(`Open items: ${summary.openItems.join('; ')}`);
  const parameters = Object.entries(summary.parameters);
  if (parameters.length > 0)
    lines.push(`Parameters: ${parameters.map(([key, value]) => `${key}=${value}`).join(', ')}`);
  if (summary.stableFacts.length > 0) lines.push(`Facts: ${summary.stableFacts.map((fact) => fact.text).join('; ')}`);
  return lines.join('\n');
}
