import { OwnRedisServer } from '@agentrix/bus/testing';
import { runDistributed } from './distributed.js';

// Two worker processes sharing one Redis bus, started by one command:
//   pnpm --filter @agentrix/example-distributed start
// Uses REDIS_URL when set, else starts a throwaway redis-server (apt install redis-server).
const log = (line: string) => console.log(`[host] ${line}`);

let url = process.env.REDIS_URL;
let server: OwnRedisServer | undefined;
if (url === undefined || url === '') {
  server = await OwnRedisServer.start({ persistence: false });
  url = server.url;
  log(`started redis-server on port ${server.port}`);
}

try {
  const result = await runDistributed({ url, log });
  const counts = Object.entries(result.byWorker).map(([worker, count]) => `${count} from ${worker}`);
  log(`${result.answers.length} answers: ${counts.join(', ')}`);
} finally {
  await server?.stop();
}
