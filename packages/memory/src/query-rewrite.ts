import type { ChatModel, ChatRequest } from '@agentrix/core';
import { z } from 'zod';
import { kindQuery } from './kinds.js';
import { callScope, type MemoryQueryScope } from './scope.js';
import { NAME } from './text.js';

/** Sub-queries a question is split into at most (each is one more search). */
export const MAX_SUB_QUERIES = 4;
/** Characters of a question rewriting looks at (a longer text is a document, searched as it is). */
const MAX_REWRITE_LENGTH = 500;
/** Words of a question that name no content: searching them finds every turn that asks something. */
const QUESTION_WORDS = new Set(
  'what which when where who whom whose why how did does do is are was were has have had would could should will can may might both either also ever'.split(
    ' ',
  ),
);
/** Joins the parts of a multi-part question. */
const COORDINATOR = /^(?:and|or|vs|versus|nor)$/i;

/**
 * The sub-queries of a multi-part question, by rule, for a search of each fused by reciprocal
 * rank with the search of the whole question. Question words are left out (they match every turn
 * that asks something). Two names joined ("What do Maria and Evan both enjoy?") give one query per
 * name with the rest of the question ("Maria enjoy", "Evan enjoy"): each finds its own speaker's
 * turn, which the whole question ranks below turns that name both. Two options joined ("a farm
 * stay or a city break", "Lisbon versus Porto") give one query per side, each with the names of
 * the question. Several sentences give one query each. A question with none of these gives [].
 */
export function rewriteQuery(query: string): string[] {
  if (query.length > MAX_REWRITE_LENGTH) return [];
  const sentences = sentencesOf(query);
  const queries: string[] = [];
  const names = [...new Set(words(query).filter((word, index) => index > 0 && NAME.test(word)))];
  for (const sentence of sentences) {
    const tokens = words(sentence);
    const at = tokens.findIndex((word, index) => index > 0 && index < tokens.length - 1 && COORDINATOR.test(word));
    if (at < 0) {
      if (sentences.length > 1) queries.push(content(tokens));
      continue;
    }
    const before = tokens[at - 1]!;
    const after = tokens[at + 1]!;
    if (NAME.test(before) && NAME.test(after)) {
      // "Maria and Evan": one query per name, the other names left out.
      const rest = tokens.filter((word, index) => index !== at && word !== before && word !== after);
      for (const name of [before, after]) queries.push(content([name, ...rest]));
    } else {
      // "a farm stay or a city break": each side with the names of the question.
      const left = tokens.slice(0, at);
      const right = tokens.slice(at + 1);
      queries.push(content(left), content([...names.filter((name) => !right.includes(name)), ...right]));
    }
  }
  return withKindQuery(query, [
    ...new Set(queries.filter((part) => part.length > 0 && part !== content(words(query)))),
  ]);
}

/**
 * `parts`, at most {@link MAX_SUB_QUERIES}, the last one the search for the members of the kinds
 * the question asks for when it asks for one (see kinds.ts): "What pets does Ana have?" is also
 * searched as "Ana dog puppy ...". Added to the model's queries too, which may name fewer.
 */
export function withKindQuery(query: string, parts: readonly string[]): string[] {
  const kind = query.length > MAX_REWRITE_LENGTH ? undefined : kindQuery(query);
  return kind === undefined ? parts.slice(0, MAX_SUB_QUERIES) : [...parts.slice(0, MAX_SUB_QUERIES - 1), kind];
}

/**
 * True when the question joins two names ("What do Maria and Evan both enjoy?"): its parts are
 * about one subject, which memory's feedback search looks for (`feedbackSearch`). Two options
 * joined ("a farm stay or a city break") are alternatives, not a shared subject: false.
 */
export function joinsNames(query: string): boolean {
  if (query.length > MAX_REWRITE_LENGTH) return false;
  return sentencesOf(query).some((sentence) => {
    const tokens = words(sentence);
    return tokens.some(
      (word, index) =>
        index > 0 &&
        index < tokens.length - 1 &&
        COORDINATOR.test(word) &&
        NAME.test(tokens[index - 1]!) &&
        NAME.test(tokens[index + 1]!),
    );
  });
}

function sentencesOf(query: string): string[] {
  return query
    .split(/[?!;]+|\.\s+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
}

/** The words that carry content: no question words, no coordinators. */
function content(tokens: readonly string[]): string {
  return tokens.filter((word) => !QUESTION_WORDS.has(word.toLowerCase()) && !COORDINATOR.test(word)).join(' ');
}

const RewriteSchema = z.object({ queries: z.array(z.string().min(1).max(MAX_REWRITE_LENGTH)).max(MAX_SUB_QUERIES) });

/** What the model is asked: search queries that share words with what was said, not with the question. */
export const REWRITE_INSTRUCTIONS = `You turn a question about past conversations into search queries for a keyword search over what people said.
Write up to ${MAX_SUB_QUERIES} short queries: one per part of a multi-part question, each with the words the answer would likely use when it was said (not the question's words: "Where does Ana work now?" -> "Ana started job at", "Ana new job"), with the people's names. A question that asks for things of a kind names the likely things ("What pets does Ana have?" -> "Ana dog cat puppy kitten").
Answer with a JSON object only: {"queries": ["...", "..."]}.`;

export interface ModelRewriteOptions {
  model: ChatModel;
  tier: string;
  query: string;
  scope: MemoryQueryScope;
  signal?: AbortSignal | undefined;
}

/**
 * The sub-queries a small model writes for a question (JSON, zod-checked, tag `memory.rewrite`,
 * so a gateway budgets and meters the call). Throws when the model fails or its answer does not
 * match the schema: the caller falls back to {@link rewriteQuery}.
 */
export async function rewriteWithModel(options: ModelRewriteOptions): Promise<string[]> {
  const request: ChatRequest = {
    messages: [
      { role: 'system', content: REWRITE_INSTRUCTIONS },
      { role: 'user', content: options.query.slice(0, MAX_REWRITE_LENGTH) },
    ],
    tier: options.tier,
    responseFormat: { type: 'json_object' },
    temperature: 0,
    scope: callScope(options.scope, 'memory.rewrite'),
  };
  if (options.signal) request.signal = options.signal;
  const response = await options.model.generate(request);
  const parsed = RewriteSchema.parse(
    JSON.parse(response.message.content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '')),
  );
  return [...new Set(parsed.queries.map((query) => query.trim()).filter((query) => query.length > 0))];
}
