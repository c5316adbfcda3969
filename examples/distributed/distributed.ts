import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRedisBus } from '@agentrix/bus';

/**
 * Two worker processes host the same support agents on one Redis bus; this process sends them
 * questions and collects the answers. Every message is handled by exactly one of the workers
 * (Redis consumer groups), whichever process it lands in.
 */
export interface DistributedOptions {
  /** The Redis both workers and this process use. */
  url: string;
  /** Questions to send. Default 20. */
  messages?: number;
  /** Agents each worker hosts. Default 4. */
  agents?: number;
  log?: (line: string) => void;
  /** Where the workers' output goes. Default: this process's stderr. */
  output?: 'inherit' | 'ignore';
}

export interface DistributedResult {
  /** The answers, one per question. */
  answers: string[];
  /** How many questions each worker answered. */
  byWorker: Record<string, number>;
}

const WORKERS = ['worker-a', 'worker-b'];

export async function runDistributed(options: DistributedOptions): Promise<DistributedResult> {
  const log = options.log ?? (() => {});
  const total = options.messages ?? 20;
  const namespace = `distributed-${randomUUID()}`;
  const agents = Array.from({ length: options.agents ?? 4 }, (_, index) => `support-${index + 1}`);
  const children = await Promise.all(
    WORKERS.map((name) => startWorker(name, options.url, namespace, agents, options.output ?? 'inherit')),
  );
  log(`${WORKERS.join(' and ')} host ${agents.join(', ')} on one Redis bus`);
  const bus = await createRedisBus({ url: options.url, namespace });
  try {
    for (let index = 0; index < total; index++) {
      await bus.send({
        from: 'host',
        to: agents[index % agents.length]!,
        content: `question ${index + 1}`,
        replyTo: 'host',
      });
    }
    log(`sent ${total} questions`);
    const answers: string[] = [];
    const byWorker: Record<string, number> = {};
    const deadline = Date.now() + 30_000;
    while (answers.length < total) {
      if (Date.now() > deadline) throw new Error(`only ${answers.length} of ${total} answers arrived in 30 s`);
      const deliveries = await bus.read('host', { consumer: 'host', blockMs: 1000 });
      for (const delivery of deliveries) {
        const answer = delivery.envelope.content;
        answers.push(answer);
        const worker = answer.slice(0, answer.indexOf(' '));
        byWorker[worker] = (byWorker[worker] ?? 0) + 1;
        log(`${delivery.envelope.from}: ${answer}`);
      }
      await bus.ack(
        'host',
        deliveries.map((delivery) => delivery.deliveryId),
      );
    }
    return { answers, byWorker };
  } finally {
    await bus.close();
    await Promise.all(children.map(stopWorker));
  }
}

function startWorker(
  name: string,
  url: string,
  namespace: string,
  agents: string[],
  output: 'inherit' | 'ignore',
): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', script], {
    env: { ...process.env, REDIS_URL: url, BUS_NAMESPACE: namespace, WORKER_NAME: name, AGENTS: agents.join(',') },
    stdio: ['ignore', 'pipe', output],
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${name} exited (code ${code}) before it was ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      child.off('exit', onExit);
      resolve(child);
    });
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
