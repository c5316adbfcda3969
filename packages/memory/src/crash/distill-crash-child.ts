// The process distill-crash.int.test.ts kills: a distiller distils every session of one user's
// conversation. With DISTILL_BLOCK=1 its model answers the first session, then prints
// DISTILLING <call> and never answers, so the parent SIGKILLs the process in the middle of the
// second session's distillation. Without it, the process distils what is left, prints
// SESSIONS <distilled> CALLS <model calls> and exits 0.
//
//   node --conditions=agentrix-source --import tsx distill-crash-child.ts
//   env: DISTILL_DATABASE_URL, DISTILL_SCHEMA, DISTILL_USER, DISTILL_BLOCK ('1' or unset)
import { sleep } from '@agentrix/core';
import { createAgentrixStore } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { createDistiller, createMemory } from '../index.js';

const url = process.env.DISTILL_DATABASE_URL;
const schema = process.env.DISTILL_SCHEMA || undefined;
const userId = process.env.DISTILL_USER ?? 'ana';
const block = process.env.DISTILL_BLOCK === '1';
if (!url) throw new Error('set DISTILL_DATABASE_URL');

const store = await createAgentrixStore({ url, ...(schema ? { schema } : {}), vector: 'off' });
const memory = await createMemory({ database: store.database });
const model = new MockLLM({
  record: false,
  fallback: async (request, index) => {
    if (block && index >= 1) {
      process.stdout.write(`DISTILLING ${index + 1}\n`);
      await sleep(60_000);
    }
    // One fact per session, keyed by its first turn's text, citing every turn.
    const turns = (request.messages.at(-1)?.content ?? '').split('\n').slice(1);
    const first = turns[0]?.replace(/^\[1\] /, '') ?? '';
    return {
      text: JSON.stringify({
        summary: { text: `They talked: ${first}`, evidence: [1] },
        facts: [{ key: `fact.${first.length}.${index}`, text: first, evidence: turns.map((_, n) => n + 1) }],
      }),
    };
  },
});
const distiller = createDistiller({ memory, model });
const result = await distiller.distill({ userId });
process.stdout.write(`SESSIONS ${result.sessions} CALLS ${model.calls}\n`);
await distiller.close();
await memory.close();
await store.close();
