import { runBrokenWorker, runFlakyWorker } from './supervise.js';

// A supervisor running one worker process that crashes now and then, then one that cannot start
// at all (a crash loop). Run it with `pnpm --filter @agentrix/example-supervisor start`.
const log = (line: string) => console.log(`[supervisor] ${line}`);

console.log('1. A flaky worker: restarted with backoff, then stopped gracefully\n');
const flaky = await runFlakyWorker({ log });
console.log(`\n   ${flaky.starts} starts, ${flaky.crashes} crashes\n`);

console.log('2. A broken worker: crash loop, no more restarts, rollback hook\n');
const loop = await runBrokenWorker({ log });
console.log(`\n   gave up after ${loop.crashes} crashes (last exit code ${loop.lastExit.code})`);
