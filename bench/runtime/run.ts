import { cpus } from 'node:os';
import { printTable } from '../lib/table.js';
import { benchAskPath } from './ask-path.js';
import { benchBusTurn } from './bus-turn.js';
import { benchDirectTurn } from './direct-turn.js';
import { benchIdleAgents } from './idle-agents.js';
import { benchTracing } from './tracing.js';

const started = performance.now();
const cpu = cpus();
console.log('# Agentrix runtime benchmarks');
console.log(`node ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`);
console.log(`cpu: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores`);
// What users run is the build (`pnpm bench` builds first); the TypeScript sources through tsx
// add esbuild's keepNames (a `__name` call per closure created): about 15% of an ask.
const fromSources = process.execArgv.some((argument) => argument.includes('agentrix-source'));
console.log(`packages: ${fromSources ? 'TypeScript sources through tsx (slower than the build)' : 'the build (dist)'}`);

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

if (wanted('5')) {
  printTable(await benchTracing({ warmup: 2_000, samples: 20_000, agents: 100, durationMs: 2_000 }));
}

console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
