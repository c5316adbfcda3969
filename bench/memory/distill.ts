// Evidence recall with and without distillation, measured in one run on the same conversations:
// each conversation is imported, retrieved for its questions, then distilled by the scripted
// distiller (scripted-distiller.ts: rules, no answer key) through createDistiller, and retrieved
// again. A distilled fact or summary counts the turns it links to (`evidenceEpisodeIds`) as found.

import { countTextTokens } from '@agentrix/gateway';
import { createDistiller, createMemory, type Memory, type RetrievedMemory } from '@agentrix/memory';
import { openDatabase } from '@agentrix/store';
import { percentile } from '../lib/stats.js';
import { formatNumber, printTable } from '../lib/table.js';
import {
  generateConversation,
  QUESTION_KINDS,
  type Question,
  type QuestionKind,
  SEEDS,
  type Split,
} from './conversation.js';
import { scriptedDistillerModel } from './scripted-distiller.js';

const BUDGET_SHARE = 0.1;
/** `withMemory`'s default memory budget. */
const WITH_MEMORY_BUDGET = 1500;

class Recall {
  readonly complete = new Map<QuestionKind | 'all', { questions: number; complete: number }>();
  readonly latencies: number[] = [];
  tokens = 0;
  full = 0;

  add(question: Question, found: ReadonlySet<string>, tokens: number, full: number, ms: number): void {
    const all = question.evidence.every((id) => found.has(id));
    for (const kind of [question.kind, 'all'] as const) {
      const score = this.complete.get(kind) ?? { questions: 0, complete: 0 };
      score.questions++;
      score.complete += all ? 1 : 0;
      this.complete.set(kind, score);
    }
    this.tokens += tokens;
    this.full += full;
    this.latencies.push(ms);
  }

  row(name: string): string[] {
    const share = (kind: QuestionKind | 'all') => {
      const score = this.complete.get(kind);
      return score ? `${((score.complete / score.questions) * 100).toFixed(1)}%` : '-';
    };
    const sorted = Float64Array.from(this.latencies).sort();
    return [
      name,
      share('all'),
      ...QUESTION_KINDS.map(share),
      `${((this.tokens / this.full) * 100).toFixed(1)}%`,
      formatNumber(percentile(sorted, 0.5), 1),
      formatNumber(percentile(sorted, 0.95), 1),
    ];
  }
}

const day = (at: number) => new Date(at).toISOString().slice(0, 10);

/** The turn ids a retrieval shows: its episodes, and the evidence of its facts and summaries. */
function foundTurns(found: RetrievedMemory, turnOf: ReadonlyMap<string, string>): Set<string> {
  const ids = [
    ...found.episodes.map((episode) => episode.id),
    ...found.facts.flatMap((fact) => fact.evidenceEpisodeIds),
  ];
  return new Set(ids.map((id) => turnOf.get(id) ?? ''));
}

async function measure(
  memory: Memory,
  userId: string,
  questions: readonly Question[],
  turnOf: ReadonlyMap<string, string>,
  budgets: { share: number; full: number },
  tallies: { share: Recall; fixed: Recall },
): Promise<void> {
  for (const question of questions) {
    for (const [maxTokens, tally] of [
      [budgets.share, tallies.share],
      [WITH_MEMORY_BUDGET, tallies.fixed],
    ] as const) {
      const started = performance.now();
      const found = await memory.retrieve({ scope: { userId }, query: question.text, maxTokens });
      tally.add(question, foundTurns(found, turnOf), found.tokens, budgets.full, performance.now() - started);
    }
  }
}

export async function distillSection(split: Split): Promise<void> {
  const database = await openDatabase('memory://', { vector: 'off' });
  const memory = await createMemory({ database, countTokens: countTextTokens });
  const model = scriptedDistillerModel();
  const distiller = createDistiller({ memory, model });
  const before = { share: new Recall(), fixed: new Recall() };
  const after = { share: new Recall(), fixed: new Recall() };
  let facts = 0;
  let summaries = 0;
  let sessions = 0;
  let distillMs = 0;
  for (const seed of SEEDS[split]) {
    const conversation = generateConversation({ seed, split });
    const userId = `distill-${split}-${seed}`;
    const turnOf = new Map<string, string>();
    for (const turn of conversation.turns) {
      const episode = await memory.recordEpisode({
        scope: { userId },
        occurredAt: turn.at,
        messages: [{ role: 'user', name: turn.speaker, content: turn.text }],
      });
      turnOf.set(episode.id, turn.id);
    }
    let full = 0;
    let session = 0;
    const lines: string[] = [];
    for (const turn of conversation.turns) {
      if (turn.session !== session) lines.push(`[${day(turn.at)}]`);
      session = turn.session;
      lines.push(`${turn.speaker}: ${turn.text}`);
    }
    full = countTextTokens(lines.join('\n'));
    const budgets = { share: Math.floor(full * BUDGET_SHARE), full };
    await measure(memory, userId, conversation.questions, turnOf, budgets, before);
    const started = performance.now();
    const result = await distiller.distill({ userId });
    distillMs += performance.now() - started;
    facts += result.facts;
    summaries += result.summaries;
    sessions += result.sessions;
    await measure(memory, userId, conversation.questions, turnOf, budgets, after);
  }
  printTable({
    title: `Memory: evidence recall with and without distillation, ${split} seeds ${SEEDS[split].join(', ')}`,
    headers: ['retrieval', 'recall (all evidence)', ...QUESTION_KINDS, 'tokens vs full', 'p50 ms', 'p95 ms'],
    rows: [
      before.share.row('memory.retrieve, maxTokens = 10% of full context'),
      after.share.row('  + distilled facts and summaries'),
      before.fixed.row(`memory.retrieve, maxTokens = ${formatNumber(WITH_MEMORY_BUDGET)} (withMemory's)`),
      after.fixed.row('  + distilled facts and summaries'),
    ],
    notes: [
      `Distilled ${formatNumber(sessions)} sessions into ${formatNumber(facts)} facts and ${formatNumber(summaries)} summaries in ${formatNumber(distillMs)} ms (scripted distiller: rules, no model, no answer key; one call per session).`,
      'A retrieved fact or summary counts the turns it links to as found; the tokens are those of the retrieved text.',
    ],
  });
  await distiller.close();
  await database.close();
}
