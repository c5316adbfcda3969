// Diagnostic (not part of run.ts): evidence recall of the tuning conversations placed inside the
// latency section's 50,000-row agent scope, among 75 other conversations of the same generator
// (the same names, the same topics): how deep a large scope's search must look.
//
//   SCALE_DIR=<a COPY of $MEMORY_BENCH_DIR/100000> node --conditions=agentrix-source --import tsx bench/memory/scale-recall.ts
//
// The first run adds the five tuning conversations (3,311 turns) to the copy's agent scope, so
// never point it at the latency section's own directory. Prints, at 10% and 5% of each
// conversation's full context, the questions whose evidence was all found, the evidence turns
// found, the CPU a retrieve and p50 / p95.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { countTextTokens } from '@agentrix/gateway';
import { createMemory } from '@agentrix/memory';
import { openDatabase } from '@agentrix/store';
import { fullContext, generateConversation } from './conversation.js';

const dir = process.env.SCALE_DIR;
if (!dir) throw new Error("Set SCALE_DIR to a copy of the latency section's 100k directory (see the header)");
const database = await openDatabase(dir, { relaxedDurability: true });
const memory = await createMemory({ database, migrate: false, countTokens: countTextTokens });
const seeds = [1, 2, 3, 4, 5];
const marker = `${dir}/scale-imported`;
const conversations = seeds.map((seed) => generateConversation({ seed, split: 'tuning' }));
if (!existsSync(marker)) {
  for (const [i, conversation] of conversations.entries()) {
    await memory.recordEpisodes(
      conversation.turns.map((turn) => ({
        scope: { agentId: 'shared-agent' },
        messageId: `scale-${seeds[i]}/${turn.id}`,
        occurredAt: turn.at,
        messages: [{ role: 'user' as const, name: turn.speaker, content: turn.text }],
      })),
    );
  }
  await writeFile(marker, '');
}
for (const share of [0.1, 0.05]) {
  let questions = 0;
  let complete = 0;
  let evidence = 0;
  let foundEvidence = 0;
  let cpu = 0;
  const times: number[] = [];
  for (const [i, conversation] of conversations.entries()) {
    const budget = Math.floor(countTextTokens(fullContext(conversation)) * share);
    const prefix = `scale-${seeds[i]}/`;
    for (const question of conversation.questions) {
      const before = process.cpuUsage();
      const t = performance.now();
      const result = await memory.retrieve({
        scope: { agentId: 'shared-agent' },
        query: question.text,
        maxTokens: budget,
      });
      times.push(performance.now() - t);
      const used = process.cpuUsage(before);
      cpu += (used.user + used.system) / 1000;
      const found = new Set(
        result.episodes.flatMap((e) => (e.messageId?.startsWith(prefix) ? [e.messageId.slice(prefix.length)] : [])),
      );
      questions++;
      evidence += question.evidence.length;
      foundEvidence += question.evidence.filter((id) => found.has(id)).length;
      if (question.evidence.every((id) => found.has(id))) complete++;
    }
  }
  times.sort((a, b) => a - b);
  console.log(
    `share ${share}: recall ${((100 * complete) / questions).toFixed(1)}% (${complete}/${questions}), evidence turns ${foundEvidence}/${evidence}; CPU ${(cpu / questions).toFixed(2)} ms a retrieve; p50 ${times[Math.floor(times.length / 2)]!.toFixed(1)} p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms`,
  );
}
await database.close();
