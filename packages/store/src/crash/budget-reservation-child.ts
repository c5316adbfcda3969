// The process gateway-stores-crash.int.test.ts kills: a gateway on a durable store reserves
// budget for a call its model never answers, prints RESERVED, and is SIGKILLed before it settles.
//
//   node --conditions=agentrix-source --import tsx budget-reservation-child.ts
//   env: BUDGET_DATABASE_URL, BUDGET_SCHEMA (optional), BUDGET_ID, BUDGET_HOLDER, BUDGET_TTL_MS
import type { ChatModel } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { createAgentrixStore } from '../index.js';

const url = process.env.BUDGET_DATABASE_URL;
const schema = process.env.BUDGET_SCHEMA || undefined;
const budget = process.env.BUDGET_ID;
const holderId = process.env.BUDGET_HOLDER;
if (!url || !budget || !holderId) throw new Error('set BUDGET_DATABASE_URL, BUDGET_ID and BUDGET_HOLDER');

/** A model still thinking when the process dies. */
const thinking: ChatModel = {
  name: 'thinking',
  generate: () => new Promise(() => {}),
  async *stream() {},
};

const store = await createAgentrixStore({ url, ...(schema ? { schema } : {}), vector: 'off' });
const gateway = createGateway({
  provider: thinking,
  models: { 'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 } },
  tiers: { small: 'test-small' },
  budgets: [{ id: budget, scope: 'global', period: 'day', tokens: 10_000 }],
  budgetStore: store.budgets,
  reservations: { holderId, ttlMs: Number(process.env.BUDGET_TTL_MS ?? 60_000) },
});
gateway.events.on('budget.reserved', () => process.stdout.write('RESERVED\n'));
void gateway.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100 });
// The rest of this host's work, which the kill interrupts.
setInterval(() => {}, 60_000);
