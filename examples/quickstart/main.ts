import { startTeam } from './team.js';

// The quickstart: a planner, two workers and a critic working on one goal, on the scripted
// mock model (no API key, no infrastructure). Run it with `pnpm demo` from the repository root.
const goal = process.argv[2] ?? 'Launch the agent runtime in production';
const started = performance.now();
const team = await startTeam({ log: (line) => console.log(line) });
console.log(`Goal: ${goal}\n`);
await team.agentrix.send({ to: 'planner', content: goal });
const report = await team.report;
await team.agentrix.waitForIdle();
console.log(`\nReport:\n${report}\n`);
for (const agent of team.agentrix.list()) {
  console.log(`${agent.id.padEnd(9)} ${agent.state.padEnd(7)} turns=${agent.turns}`);
}
console.log(`\nDone in ${(performance.now() - started).toFixed(0)} ms.`);
await team.close();
