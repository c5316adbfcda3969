// Test helpers for the Redis bus (not exported from the package).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** `process.env.REDIS_URL`, or a clear failure telling how to run integration tests. */
export function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (url === undefined || url === '') {
    throw new Error(
      'REDIS_URL is not set: run integration tests through `node scripts/with-services.mjs -- vitest run --config vitest.workspace.ts`, which starts a redis-server',
    );
  }
  return url;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

/** The redis-server binary tests, the bench and the distributed example start (apt's by default). */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/**
 * A redis-server of our own (from `REDIS_SERVER_BIN`) on a free port in a temp dir, that can be
 * killed and started again on the same port and data. Durable by default (`appendonly yes`,
 * `appendfsync always`, for the restart test); `{ persistence: false }` keeps everything in
 * memory (the bench, the distributed example). Always call `stop()`.
 */
export class OwnRedisServer {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'agentrix-redis-'));
  #process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly bin: string,
    readonly persistence: boolean,
    readonly args: readonly string[],
    readonly launcher: readonly string[],
  ) {}

  /**
   * `args` go to redis-server as they are (e.g. `['--requirepass', 'secret']`); `launcher` runs it
   * (its words come before the binary, e.g. `['valgrind', '--tool=callgrind']`).
   */
  static async start(
    options: { persistence?: boolean; args?: readonly string[]; launcher?: readonly string[] } = {},
  ): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(
      await freePort(),
      REDIS_SERVER_BIN,
      options.persistence ?? true,
      options.args ?? [],
      options.launcher ?? [],
    );
    try {
      await server.restart();
    } catch (error) {
      // A server that did not start leaves no process and no temp dir behind.
      await server.stop();
      throw error;
    }
    return server;
  }

  /** The running process's id (the launcher's, when there is one). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) and resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error('redis-server is already running');
    const [command = this.bin, ...launcherArgs] = this.launcher;
    const child = spawn(
      command,
      [
        ...launcherArgs,
        ...(this.launcher.length > 0 ? [this.bin] : []),
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        ...(this.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
        '--save',
        '',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    this.#process = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing until {@link resume}. */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /** SIGKILL: no shutdown save, only what appendonly already wrote survives. */
  async kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
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

/**
 * A Redis Cluster of our own: `primaries` redis-servers in cluster mode (each with `replicas`
 * replicas) on free ports, joined with `redis-cli --cluster create`. In memory, no persistence.
 * Always call `stop()`.
 */
export class OwnRedisCluster {
  private constructor(readonly nodes: readonly OwnRedisServer[]) {}

  static async start(options: { primaries?: number; replicas?: number } = {}): Promise<OwnRedisCluster> {
    const primaries = options.primaries ?? 3;
    const replicas = options.replicas ?? 0;
    const nodes: OwnRedisServer[] = [];
    const cluster = new OwnRedisCluster(nodes);
    try {
      for (let index = 0; index < primaries * (1 + replicas); index++) {
        nodes.push(
          await OwnRedisServer.start({
            persistence: false,
            // A down primary is failed over after 1 s (the default 15 s would stall a test).
            args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000', '--protected-mode', 'no'],
          }),
        );
      }
      const create = spawnSync(
        REDIS_CLI_BIN,
        [
          '--cluster',
          'create',
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      await waitForClusterOk(nodes.map((node) => node.port));
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Startup nodes for an ioredis `Cluster`. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** The redis-cli binary (next to redis-server). */
export const REDIS_CLI_BIN = path.join(path.dirname(REDIS_SERVER_BIN), 'redis-cli');

/** `REDIS_CLUSTER_URLS` (comma separated, set by scripts/with-services.mjs) as ioredis startup nodes. */
export function requireRedisClusterNodes(): Array<{ host: string; port: number }> {
  const urls = process.env.REDIS_CLUSTER_URLS;
  if (urls === undefined || urls === '') {
    throw new Error(
      'REDIS_CLUSTER_URLS is not set: run integration tests through `node scripts/with-services.mjs -- vitest run --config vitest.workspace.ts`, which starts a Redis Cluster',
    );
  }
  return urls.split(',').map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port) };
  });
}

/**
 * Calls `probe` every `intervalMs` until it returns something other than `undefined`, and returns
 * that; throws `failure()`'s message after `timeoutMs`. The cluster tests wait on gossip with it.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  failure: () => string,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${failure()} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once every node says `cluster_state:ok` (slots assigned and agreed on). */
export async function waitForClusterOk(ports: readonly number[], timeoutMs = 15_000): Promise<void> {
  const clusterOk = (port: number) =>
    spawnSync(REDIS_CLI_BIN, ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout?.includes(
      'cluster_state:ok',
    );
  await pollUntil(
    () => (ports.every(clusterOk) ? true : undefined),
    () => `Redis Cluster nodes ${ports.join(', ')} not all ok`,
    { timeoutMs },
  );
}

/**
 * Waits until `redis-cli --cluster check` through `port` passes: every node agrees on the whole
 * slot configuration, no slot is open (migrating or importing) and all 16,384 are covered.
 * `--cluster reshard` runs that check first and gives up at once when it fails, which right after
 * a failover it can while gossip settles, though every node already agrees on roles and first slots.
 */
export async function waitForClusterCheck(port: number, timeoutMs = 15_000): Promise<void> {
  let output = '';
  await pollUntil(
    () => {
      const check = spawnSync(REDIS_CLI_BIN, ['--cluster', 'check', `127.0.0.1:${port}`], { encoding: 'utf8' });
      output = check.stdout ?? '';
      return check.status === 0 ? true : undefined;
    },
    () => `redis-cli --cluster check through ${port} did not pass:\n${output}\n`,
    { timeoutMs, intervalMs: 100 },
  );
}
