// A redis-server under valgrind's callgrind on a free port (no persistence), for the diagnostics
// that count Redis's instructions (redis-instructions.ts, script-costs.ts): the figure does not
// depend on what else the machine runs. Needs valgrind.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_SERVER_BIN } from './redis-server.js';

export class CallgrindRedis {
  readonly url: string;
  readonly #server: ChildProcess;
  readonly #dir: string;
  #dumps = 0;

  private constructor(server: ChildProcess, dir: string, port: number) {
    this.#server = server;
    this.#dir = dir;
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** Starts it with `args` added to the server's settings, and waits until it answers (a client to it). */
  static async start(args: readonly string[] = []): Promise<{ redis: CallgrindRedis; client: Redis }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentrix-callgrind-'));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        `--callgrind-out-file=${dir}/callgrind.out`,
        REDIS_SERVER_BIN,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        ...args,
      ],
      { stdio: 'ignore' },
    );
    const redis = new CallgrindRedis(server, dir, port);
    try {
      return { redis, client: await redis.#connect() };
    } catch (error) {
      await redis.stop();
      throw error;
    }
  }

  /** Zeroes the counters. */
  zero(): void {
    execFileSync('callgrind_control', ['--zero', String(this.#server.pid)], { stdio: 'ignore' });
  }

  /** Instructions Redis ran since the last dump or zeroing; `keepAs` copies the dump there. */
  dump(keepAs?: string): number {
    execFileSync('callgrind_control', ['--dump', String(this.#server.pid)], { stdio: 'ignore' });
    this.#dumps++;
    const file = readdirSync(this.#dir).find((name) => name.endsWith(`.${this.#dumps}`));
    const totals = file && /\n(?:summary|totals): (\d+)/.exec(readFileSync(path.join(this.#dir, file), 'utf8'));
    if (!file || !totals) throw new Error(`no callgrind dump in ${this.#dir}`);
    if (keepAs !== undefined) copyFileSync(path.join(this.#dir, file), keepAs);
    return Number(totals[1]);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #connect(): Promise<Redis> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return client;
      } catch {
        client.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    throw new Error(`redis-server under valgrind did not answer at ${this.url}`);
  }
}
