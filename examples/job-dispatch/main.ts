import { formatStats, runJobDispatch } from './dispatch.js';

// Reputation-ranked dispatch with three qualified agents (and one that does not qualify): fan out
// to the top 3, first result wins, the rest are cancelled, stats are updated and printed.
// Run it with `pnpm --filter @agentrix/example-job-dispatch start`.
const { profiles } = await runJobDispatch({ log: (line) => console.log(line) });
console.log(`\n${formatStats(profiles)}`);
