import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** A Redis for the bench: `REDIS_URL` when set, else a redis-server of our own (stopped by `stop`). */
export interface BenchRedis {
  url: string;
  port: number;
  host: string;
  /** True when this bench started the server (then its settings are known: no persistence). */
  own: boolean;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const existing = process.env.REDIS_URL;
  if (existing !== undefined && existing !== '') {
    const parsed = new URL(existing);
    return {
      url: existing,
      host: parsed.hostname,
      port: Number(parsed.port || 6379),
      own: false,
      stop: async () => {},
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentrix-bench-redis-'));
  const child: ChildProcess = spawn(
    REDIS_SERVER_BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`could not start ${REDIS_SERVER_BIN} on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { url: `redis://127.0.0.1:${port}`, host: '127.0.0.1', port, own: true, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
