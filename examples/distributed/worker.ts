// One worker process of the distributed example: hosts the support agents on the shared Redis
// bus, answering with a scripted model (no API key). Started by distributed.ts.
//
//   env: REDIS_URL, BUS_NAMESPACE, WORKER_NAME, AGENTS (comma list)
import { createRedisBus } from '@agentrix/bus';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';

const url = required('REDIS_URL');
const worker = required('WORKER_NAME');

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const bus = await createRedisBus({ url, namespace: required('BUS_NAMESPACE'), leaseMs: 10_000 });
const model = new MockLLM({
  fallback: (request) => ({ text: `${worker} answered: ${String(request.messages.at(-1)?.content ?? '')}` }),
});
// The consumer name tells Redis which process holds a message; every process hosts every agent,
// and each message goes to one of them.
const agentrix = await createAgentrix({ bus, model, consumer: worker });
for (const id of required('AGENTS').split(',')) {
  await agentrix.create({ id, instructions: 'Answer support questions briefly.' });
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await agentrix.close();
  await bus.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdout.write('ready\n');
