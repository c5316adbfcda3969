// A diagnostic, not in run.ts: recall when the speakers' names are said less often. The
// generator's conversations (tuning and held-out, plain and dense) are imported as they are, and
// again with every name said inside a turn taken out, so each name is left in about half of the
// turns (its speaker's `Name:` lines): the share at which the search's rule for which words pick
// candidates (lexical-search.ts, SELECTING_SHARE) decides. LoCoMo's names sit near that share.
//
//   node --conditions=agentrix-source --import tsx bench/memory/name-share.ts
import { countTextTokens } from '@agentrix/gateway';
import { createMemory } from '@agentrix/memory';
import { openDatabase } from '@agentrix/store';
import { formatNumber, printTable } from '../lib/table.js';
import { type Conversation, fullContext, generateConversation, SEEDS } from './conversation.js';

/** The conversation with each speaker's name taken out of the turns' text (", Maria," -> ","). */
function namesOut(conversation: Conversation): Conversation {
  const said = new RegExp(`,? ?\\b(?:${conversation.speakers.join('|')})\\b,?`, 'g');
  const turns = conversation.turns.map((turn) => ({
    ...turn,
    text: turn.text.replace(said, (match) => (match.startsWith(',') && match.endsWith(',') ? ',' : '')),
  }));
  return { ...conversation, turns };
}

const database = await openDatabase('memory://', { vector: 'off' });
const memory = await createMemory({ database, countTokens: countTextTokens });
const rows: string[][] = [];
for (const [name, edit] of [
  ['names as generated', (conversation: Conversation) => conversation],
  ['names said inside turns taken out', namesOut],
] as const) {
  let questions = 0;
  let complete = 0;
  let share = 0;
  let conversations = 0;
  for (const split of ['tuning', 'held-out'] as const) {
    for (const seed of SEEDS[split]) {
      for (const dense of [false, true]) {
        const conversation = edit(generateConversation({ seed, split, dense }));
        const userId = `${name}-${split}-${seed}-${dense}`;
        await memory.recordEpisodes(
          conversation.turns.map((turn) => ({
            scope: { userId },
            occurredAt: turn.at,
            messageId: `${userId}/${turn.id}`,
            messages: [{ role: 'user' as const, name: turn.speaker, content: turn.text }],
          })),
        );
        for (const speaker of conversation.speakers) {
          const saying = conversation.turns.filter((turn) => turn.speaker === speaker || turn.text.includes(speaker));
          share += saying.length / conversation.turns.length;
        }
        conversations++;
        const budget = Math.floor(countTextTokens(fullContext(conversation)) * 0.1);
        for (const question of conversation.questions) {
          const found = await memory.retrieve({ scope: { userId }, query: question.text, maxTokens: budget });
          const ids = new Set(found.episodes.map((episode) => episode.messageId?.slice(userId.length + 1)));
          questions++;
          if (question.evidence.every((id) => ids.has(id))) complete++;
        }
      }
    }
  }
  rows.push([
    name,
    `${formatNumber((share / conversations / 2) * 100, 1)}%`,
    formatNumber(questions),
    `${formatNumber((complete / questions) * 100, 1)}%`,
  ]);
}
await database.close();
printTable({
  title: 'Memory: recall at 10% of full context when names are said less often (20 conversations)',
  headers: ['conversations', "a name's share of the turns", 'questions', 'recall (all evidence)'],
  rows,
  notes: ['memory.retrieve with its defaults, maxTokens = 10% of the full context (o200k), as in run.ts recall.'],
});
