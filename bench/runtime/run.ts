import { cpus } from 'node:os';
import { printTable } from '../lib/table.js';
import { benchAskPath } from './ask-path.js';
import { benchBusTurn } from './bus-turn.js';
import { benchDirectTurn } from './direct-turn.js';
import { benchIdleAgents } from './idle-agents.js';

const started = performance.now();
const cpu = cpus();
console.log('# Agentrix runtime benchmarks');
console.log(`node ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`);
console.log(`cpu: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores`);

/** `run.ts 2 3` runs only sections 2 and 3. */
const sections = new Set(process.argv.slice(2));
const wanted = (section: string) => sections.size === 0 || sections.has(section);

if (wanted('1')) {
  printTable(await benchDirectTurn({ warmup: 20_000, samples: 100_000, concurrency: 100, durationMs: 2_000 }));
}
if (wanted('2')) {
  printTable(
    await benchBusTurn({ warmup: 2_000, samples: 20_000, agents: 100, inFlightPerAgent: 10, durationMs: 2_000 }),
  );
}
if (wanted('3')) printTable(await benchIdleAgents({ agents: 10_000, settleMs: 100 }));
if (wanted('4')) {
  printTable(
    await benchAskPath({ warmup: 2_000, samples: 20_000, agents: 100, inFlightPerAgent: 10, durationMs: 2_000 }),
  );
}

console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
