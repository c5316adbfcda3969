import { OpenAIProvider } from '@agentrix/gateway';
import { formatReport, runAutonomousHq } from './hq.js';

// The autonomous HQ: goal -> plan -> tasks -> workers -> report, with a cron tick, under a $20/day
// team budget. No API key: scripted mock models. With OPENAI_API_KEY: OpenAI through the gateway.
// Run it with `pnpm --filter @agentrix/example-autonomous-hq start`.
const real = process.env.OPENAI_API_KEY
  ? new OpenAIProvider({
      apiKey: process.env.OPENAI_API_KEY,
      ...(process.env.OPENAI_BASE_URL ? { baseURL: process.env.OPENAI_BASE_URL } : {}),
    })
  : undefined;
console.log(real ? 'Model: OpenAI through the gateway' : 'Model: scripted mock (set OPENAI_API_KEY for a real one)');
const result = await runAutonomousHq({
  log: (line) => console.log(line),
  ...(real ? { provider: real, tiers: { large: 'gpt-4o', small: 'gpt-4o-mini' } } : {}),
  ...(process.argv[2] ? { goal: process.argv[2] } : {}),
});
console.log(`\nReport from the cron tick:\n${formatReport(result.tickReport)}`);
console.log(`\nReport on demand:\n${formatReport(result.report)}`);
