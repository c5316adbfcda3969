import { cpus } from 'node:os';
import { printTable } from '../lib/table.js';
import { benchDirectTurn } from './direct-turn.js';

const started = performance.now();
const cpu = cpus();
console.log('# Agentrix runtime benchmarks');
console.log(`node ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`);
console.log(`cpu: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores`);

printTable(await benchDirectTurn({ warmup: 20_000, samples: 100_000, concurrency: 100, durationMs: 2_000 }));

console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
