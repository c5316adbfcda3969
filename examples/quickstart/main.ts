import { createGateway, OpenAIProvider } from '@agentrix/gateway';
import { startTeam } from './team.js';

// The quickstart: a planner, two workers and a critic working on one goal. With no API key it
// runs on the scripted mock models (no infrastructure). With OPENAI_API_KEY set it runs on the
// real OpenAI provider (or any compatible server at OPENAI_BASE_URL) through the gateway, under
// a $20/day team budget. Run it with `pnpm demo` from the repository root.
const goal = process.argv[2] ?? 'Launch the agent runtime in production';
const started = performance.now();
const gateway = process.env.OPENAI_API_KEY
  ? createGateway({
      provider: new OpenAIProvider({
        apiKey: process.env.OPENAI_API_KEY,
        ...(process.env.OPENAI_BASE_URL ? { baseURL: process.env.OPENAI_BASE_URL } : {}),
      }),
      tiers: { large: 'gpt-4o', small: 'gpt-4o-mini' },
      budgets: [{ id: 'team', scope: 'global', period: 'day', usd: 20 }],
    })
  : undefined;
console.log(
  gateway
    ? 'Model: OpenAI through the gateway ($20/day budget)'
    : 'Model: scripted mock (set OPENAI_API_KEY for a real one)',
);
const team = await startTeam({ log: (line) => console.log(line), ...(gateway ? { model: gateway } : {}) });
console.log(`Goal: ${goal}\n`);
await team.agentrix.send({ to: 'planner', content: goal });
const report = await team.report;
await team.agentrix.waitForIdle();
console.log(`\nReport:\n${report}\n`);
for (const agent of team.agentrix.list()) {
  console.log(`${agent.id.padEnd(9)} ${agent.state.padEnd(7)} turns=${agent.turns}`);
}
if (gateway) {
  const usage = await gateway.report();
  console.log(`\nSpent today: $${usage.total.costUsd.toFixed(4)} in ${usage.total.calls} calls`);
}
console.log(`\nDone in ${(performance.now() - started).toFixed(0)} ms.`);
await team.close();
await gateway?.close();
