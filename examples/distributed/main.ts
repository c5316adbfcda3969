import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDistributed } from './distributed.js';

// Two worker processes sharing one Redis bus, started by one command:
//   pnpm --filter @agentrix/example-distributed start
// Uses REDIS_URL when set, else starts a throwaway redis-server (apt install redis-server).
const log = (line: string) => console.log(`[host] ${line}`);

let url = process.env.REDIS_URL;
let stopRedis = async () => {};
if (url === undefined || url === '') {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agentrix-distributed-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  url = `redis://127.0.0.1:${port}`;
  stopRedis = async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  };
  log(`started redis-server on port ${port}`);
}

try {
  const result = await runDistributed({ url, log });
  log(
    `${result.answers.length} answers: ${Object.entries(result.byWorker)
      .map(([worker, count]) => `${count} from ${worker}`)
      .join(', ')}`,
  );
} finally {
  await stopRedis();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
