// A redis-server under valgrind's callgrind (bus/testing's OwnRedisServer, in memory), for the
// diagnostics that count Redis's instructions (redis-instructions.ts, script-costs.ts): the
// figure does not depend on what else the machine runs. Needs valgrind.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OwnRedisServer } from '@agentrix/bus/testing';
import { Redis } from 'ioredis';

export class CallgrindRedis {
  readonly #server: OwnRedisServer;
  /** Where callgrind writes its dumps (`callgrind.out.<n>`). */
  readonly #dir: string;
  #dumps = 0;

  private constructor(server: OwnRedisServer, dir: string) {
    this.#server = server;
    this.#dir = dir;
  }

  get url(): string {
    return this.#server.url;
  }

  /** Starts it with `args` added to the server's settings (and a client to it). */
  static async start(args: readonly string[] = []): Promise<{ redis: CallgrindRedis; client: Redis }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentrix-callgrind-'));
    const launcher = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${dir}/callgrind.out`];
    const server = await OwnRedisServer.start({ persistence: false, args, launcher }).catch((error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    const redis = new CallgrindRedis(server, dir);
    try {
      const client = new Redis(server.url);
      await client.ping();
      return { redis, client };
    } catch (error) {
      await redis.stop();
      throw error;
    }
  }

  /** Zeroes the counters. */
  zero(): void {
    this.#control('--zero');
  }

  /** Instructions Redis ran since the last dump or zeroing; `keepAs` copies the dump there. */
  dump(keepAs?: string): number {
    this.#control('--dump');
    this.#dumps++;
    const name = readdirSync(this.#dir).find((entry) => entry.endsWith(`.${this.#dumps}`));
    const file = name && path.join(this.#dir, name);
    const totals = file && /\n(?:summary|totals): (\d+)/.exec(readFileSync(file, 'utf8'));
    if (!file || !totals) throw new Error(`no callgrind dump in ${this.#dir}`);
    if (keepAs !== undefined) copyFileSync(file, keepAs);
    return Number(totals[1]);
  }

  async stop(): Promise<void> {
    await this.#server.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #control(what: string): void {
    execFileSync('callgrind_control', [what, String(this.#server.pid)], { stdio: 'ignore' });
  }
}
