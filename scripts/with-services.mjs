#!/usr/bin/env node
// Runs a command with a real Redis and a real PostgreSQL 15 available.
//
//   node scripts/with-services.mjs -- <command...>
//
// - REDIS_URL / REDIS_CLUSTER_URLS / DATABASE_URL already set: that service is used as is.
// - AGENTRIX_SERVICES=none: provision nothing (or a comma list, e.g. `redis` or `postgres`).
// - `chromium` (the console's browser tests drive /usr/bin/chromium) is installed with apt-get
//   when missing, unless AGENTRIX_SERVICES leaves it out.
// - Otherwise redis-server and postgres are started on free ports on 127.0.0.1 in temp dirs
//   (installed with apt-get when missing), plus a three-primary Redis Cluster, and the command
//   runs with REDIS_URL, REDIS_CLUSTER_URLS (comma separated), DATABASE_URL and REDIS_SERVER_BIN
//   set, and everything started here is stopped afterwards, whatever happens
//   (command failure, exception, SIGINT, SIGTERM). Exits with the command's exit code.
// - The postgres started here trusts every connection (DATABASE_URL has no password) except one
//   role, which must log in with a password (scram-sha-256): DATABASE_PASSWORD_URL connects as it,
//   so tests can check what a wrong password or a missing database does. Its password holds
//   `@ / ? # % :`, percent-encoded in the URL, as a real one may.
//
// Plain Node ESM, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`services: ${msg}\n`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 };

// ---------------------------------------------------------------------------------------------
// cleanup bookkeeping

/** Cleanup functions, run in reverse order of registration. Each one must be idempotent. */
const cleanups = [];
/** Helper processes currently running (apt-get, initdb, pg_ctl...), killed on abort. */
const helpers = new Set();
let cleaningUp = false;
/** Set when a signal interrupts provisioning: the exit code to leave with. */
let abortCode;

function registerCleanup(name, fn) {
  const entry = { name, fn, done: false };
  cleanups.push(entry);
  if (cleaningUp) void runCleanup(entry);
}

async function runCleanup(entry) {
  if (entry.done) return;
  entry.done = true;
  try {
    await entry.fn();
  } catch (err) {
    log(`cleanup of ${entry.name} failed: ${err?.message ?? err}`);
  }
}

async function cleanupAll() {
  cleaningUp = true;
  // Kill interrupted helpers with their whole process group (runuser -> initdb -> postgres...)
  // and wait for them to be gone before removing their directories.
  const killed = [...helpers].filter((child) => !child.duringCleanup);
  for (const child of killed) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  await Promise.race([Promise.all(killed.map((child) => child.closed)), sleep(5000)]);
  for (const entry of [...cleanups].reverse()) await runCleanup(entry);
}

// Last resort for paths that skip the async cleanup (process.exit from elsewhere, crash).
process.on('exit', () => {
  for (const entry of [...cleanups].reverse()) {
    if (entry.done || !entry.sync) continue;
    entry.done = true;
    try {
      entry.sync();
    } catch {}
  }
});

// ---------------------------------------------------------------------------------------------
// helpers

/** Runs a helper command, resolves with its stdout; rejects with its output on failure. */
function run(cmd, args, { quiet = true, cwd, env, duringCleanup = false } = {}) {
  return new Promise((resolve, reject) => {
    if (cleaningUp && !duringCleanup) return reject(new Error('aborted: shutting down'));
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      detached: true, // own process group, so an abort can kill it with its children
      stdio: ['ignore', quiet ? 'pipe' : 2, quiet ? 'pipe' : 2],
    });
    child.closed = new Promise((r) => child.on('close', r));
    child.duringCleanup = duringCleanup;
    helpers.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.on('error', (e) => {
      helpers.delete(child);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      helpers.delete(child);
      if (code === 0) resolve(out);
      else {
        const detail = `${out}${err}`.trim().split('\n').slice(-20).join('\n');
        reject(
          new Error(`\`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})${detail ? `:\n${detail}` : ''}`),
        );
      }
    });
  });
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      if (statSync(file).isFile()) return file;
    } catch {}
  }
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let aptUpdated;
async function aptInstall(...candidates) {
  if (!isRoot || !findOnPath('apt-get')) {
    throw new Error(`${candidates[0]} is not installed and cannot be installed automatically (needs root + apt-get)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  aptUpdated ??= run('apt-get', ['update'], { quiet: false, env });
  await aptUpdated;
  let lastError;
  for (const pkg of candidates) {
    log(`installing ${pkg} with apt-get`);
    try {
      await run('apt-get', ['install', '-y', '--no-install-recommends', pkg], { quiet: false, env });
      return;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// redis

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

/** The redis-server binary, installed with apt-get once when missing (Redis and the cluster both ask). */
let redisServerBin;
function findRedisServer() {
  redisServerBin ??= (async () => {
    let bin = findOnPath('redis-server');
    if (!bin) {
      await aptInstall('redis-server');
      bin = findOnPath('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
      if (!bin) throw new Error('redis-server still not found after apt-get install');
    }
    return bin;
  })();
  return redisServerBin;
}

/** Starts one redis-server (in memory) on a free port with `extraArgs`; resolves with the port once it answers PING. */
async function launchRedis(bin, extraArgs = []) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agentrix-redis-'));
  registerCleanup('redis temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  if (cleaningUp) throw new Error('aborted');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--daemonize', 'no', '--dir', dir, '--protected-mode', 'no', ...extraArgs);
  // Own process group: a terminal Ctrl-C must not kill Redis under the running tests; we stop it.
  const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise((resolve) => {
    child.on('exit', () => {
      exited = true;
      resolve();
    });
    child.on('error', (e) => {
      exited = true;
      keep(String(e));
      resolve();
    });
  });
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exitedPromise;
    clearTimeout(timer);
  };
  registerCleanup('redis-server', stop);
  cleanups.at(-1).sync = () => {
    if (!exited) child.kill('SIGKILL');
  };

  const deadline = Date.now() + 20_000;
  while (!(await redisPing(port))) {
    if (exited) throw new Error(`redis-server exited during start-up:\n${output.trim()}`);
    if (Date.now() > deadline)
      throw new Error(`redis-server did not answer PING on port ${port} within 20 s:\n${output}`);
    await sleep(50);
  }
  return port;
}

async function startRedis(env) {
  const bin = await findRedisServer();
  const port = await launchRedis(bin);
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  env.REDIS_SERVER_BIN = bin;
  return `redis on 127.0.0.1:${port}`;
}

/**
 * Three redis-servers in cluster mode joined into one Redis Cluster (three primaries, no
 * replicas: the failover test starts its own cluster with replicas), as REDIS_CLUSTER_URLS.
 */
async function startRedisCluster(env) {
  const bin = await findRedisServer();
  const ports = await Promise.all(
    [1, 2, 3].map(() => launchRedis(bin, ['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000'])),
  );
  const cli = path.join(path.dirname(bin), 'redis-cli');
  await run(cli, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-yes']);
  const deadline = Date.now() + 20_000;
  for (const port of ports) {
    while (!(await run(cli, ['-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error(`Redis Cluster node ${port} not ok within 20 s`);
      await sleep(50);
    }
  }
  env.REDIS_CLUSTER_URLS = ports.map((port) => `redis://127.0.0.1:${port}`).join(',');
  return `redis cluster on 127.0.0.1:${ports.join(',')}`;
}

// ---------------------------------------------------------------------------------------------
// postgres

function pgMajor(binDir) {
  const res = spawnSync(path.join(binDir, 'pg_ctl'), ['--version'], { encoding: 'utf8' });
  const m = /(\d+)(?:\.\d+)?/.exec(res.stdout ?? '');
  return res.status === 0 && m ? Number(m[1]) : undefined;
}

function findPgBinDir() {
  const dirs = new Set();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) dirs.add(dir);
  }
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    let entries = [];
    try {
      entries = readdirSync(root);
    } catch {}
    for (const v of entries) dirs.add(path.join(root, v, 'bin'));
    dirs.add(path.join(root, 'bin'));
  }
  const found = [];
  for (const dir of dirs) {
    if (!existsSync(path.join(dir, 'initdb')) || !existsSync(path.join(dir, 'pg_ctl'))) continue;
    const major = pgMajor(dir);
    if (major !== undefined && major >= 15) found.push({ dir, major });
  }
  // Prefer 15 (what production targets), else the newest.
  found.sort((a, b) => (a.major === 15 ? -1 : b.major === 15 ? 1 : b.major - a.major));
  return found[0];
}

function ensurePostgresUser() {
  if (spawnSync('id', ['-u', 'postgres']).status === 0) return;
  const res = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`useradd postgres failed: ${res.stderr}`);
}

async function startPostgres(env) {
  let pg = findPgBinDir();
  if (!pg) {
    await aptInstall('postgresql-15', 'postgresql');
    pg = findPgBinDir();
    if (!pg) throw new Error('initdb/pg_ctl (PostgreSQL >= 15) not found after apt-get install');
  }
  const initdb = path.join(pg.dir, 'initdb');
  const pgCtl = path.join(pg.dir, 'pg_ctl');
  // Postgres refuses to run as root: run its tools as the `postgres` user.
  const asPg = isRoot ? (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : (cmd, args) => [cmd, args];
  if (isRoot) ensurePostgresUser();

  const dir = await mkdtemp(path.join(os.tmpdir(), 'agentrix-pg-'));
  registerCleanup('postgres temp dir', () => rmSync(dir, { recursive: true, force: true }));
  if (isRoot) await run('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  await run(...asPg(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']), { cwd: dir });
  requirePassword(data, PASSWORD_ROLE);

  const stopArgs = asPg(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  const isRunning = () => existsSync(path.join(data, 'postmaster.pid'));
  registerCleanup('postgres', async () => {
    if (isRunning()) await run(...stopArgs, { cwd: dir, duringCleanup: true });
  });
  cleanups.at(-1).sync = () => {
    if (isRunning()) spawnSync(stopArgs[0], stopArgs[1], { cwd: dir, stdio: 'ignore' });
  };

  // The free port may be taken between probing and binding: retry a couple of times.
  let port;
  for (let attempt = 1; port === undefined; attempt++) {
    const candidate = await freePort();
    const opts = `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    try {
      await run(...asPg(pgCtl, ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']), {
        cwd: dir,
      });
      port = candidate;
    } catch (err) {
      let serverLog = '';
      try {
        serverLog = spawnSync('tail', ['-n', '20', path.join(dir, 'log')], { encoding: 'utf8' }).stdout;
      } catch {}
      if (attempt >= 3 || cleaningUp || !/address already in use/i.test(serverLog)) {
        throw new Error(`${err.message}\n--- postgres log ---\n${serverLog}`);
      }
    }
  }
  env.DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
  env.DATABASE_PASSWORD_URL = await createPasswordRole(path.join(pg.dir, 'psql'), port);
  return `postgres ${pg.major} on 127.0.0.1:${port}`;
}

/** The one role of the started postgres that needs a password (see the notes at the top). */
const PASSWORD_ROLE = 'agentrix_password';

/** Puts scram-sha-256 lines for `role` first in pg_hba.conf: the first matching line wins, so initdb's trust lines no longer apply to it. */
function requirePassword(data, role) {
  const file = path.join(data, 'pg_hba.conf');
  const lines = [
    `local all ${role} scram-sha-256`,
    `host all ${role} 127.0.0.1/32 scram-sha-256`,
    `host all ${role} ::1/128 scram-sha-256`,
  ];
  writeFileSync(file, `${lines.join('\n')}\n${readFileSync(file, 'utf8')}`);
}

/** Creates the password role (password_encryption is scram-sha-256 by default) and returns a URL that logs in as it. */
async function createPasswordRole(psql, port) {
  const password = `${randomBytes(9).toString('base64url')}@/?#%:`;
  const statement = `create role ${PASSWORD_ROLE} login password '${password}'`;
  await run(psql, [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    statement,
  ]);
  return `postgres://${PASSWORD_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

// ---------------------------------------------------------------------------------------------
// chromium (for the console's browser tests; playwright-core drives Debian's build, never downloads one)

const CHROMIUM = '/usr/bin/chromium';

async function ensureChromium() {
  if (existsSync(CHROMIUM)) return `chromium at ${CHROMIUM}`;
  await aptInstall('chromium');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} still not found after apt-get install chromium`);
  return `chromium installed at ${CHROMIUM}`;
}

// ---------------------------------------------------------------------------------------------
// main

function wantedServices() {
  const setting = (process.env.AGENTRIX_SERVICES ?? 'redis,postgres,chromium').trim().toLowerCase();
  if (setting === 'none' || setting === '') return new Set();
  return new Set(setting.split(',').map((s) => s.trim()));
}

async function main() {
  const sep = process.argv.indexOf('--');
  const [cmd, ...args] = sep === -1 ? process.argv.slice(2) : process.argv.slice(sep + 1);
  if (!cmd) {
    process.stderr.write('usage: node scripts/with-services.mjs -- <command...>\n');
    return 2;
  }

  const env = { ...process.env };
  env.PATH = [path.join(repoRoot, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(path.delimiter);
  const wanted = wantedServices();
  const started = Date.now();
  const jobs = [];
  if (wanted.has('redis') && !process.env.REDIS_CLUSTER_URLS) jobs.push(startRedisCluster(env));
  if (wanted.has('redis') && !process.env.REDIS_URL) jobs.push(startRedis(env));
  else if (!env.REDIS_SERVER_BIN) {
    const bin = findOnPath('redis-server');
    if (bin) env.REDIS_SERVER_BIN = bin;
  }
  if (wanted.has('postgres') && !process.env.DATABASE_URL) jobs.push(startPostgres(env));
  // After the others: two apt-get installs at once would fight over the dpkg lock.
  if (wanted.has('chromium')) jobs.push(Promise.allSettled([...jobs]).then(ensureChromium));

  let child;
  let signalCount = 0;
  const onSignal = (signal) => {
    signalCount++;
    if (child && child.exitCode === null && child.signalCode === null) {
      // Forward; a second signal forces the command down.
      child.kill(signalCount > 1 ? 'SIGKILL' : signal);
      return;
    }
    // Interrupted while provisioning (or after the command ended): stop everything and leave.
    abortCode ??= 128 + SIGNAL_NUMBERS[signal];
    log(`${signal} received, stopping services`);
    void cleanupAll().finally(() => process.exit(abortCode));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (jobs.length > 0) {
    const results = await Promise.allSettled(jobs);
    const failures = results.filter((r) => r.status === 'rejected');
    if (abortCode !== undefined) return abortCode;
    if (failures.length > 0) {
      for (const f of failures) log(`start-up failed: ${f.reason?.message ?? f.reason}`);
      return 1;
    }
    for (const r of results) log(r.value);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (abortCode !== undefined) return abortCode;

  return await new Promise((resolve) => {
    child = spawn(cmd, args, { stdio: 'inherit', env, cwd: process.cwd() });
    child.on('error', (err) => {
      process.stderr.write(`with-services: cannot run ${cmd}: ${err.message}\n`);
      resolve(err.code === 'ENOENT' ? 127 : 1);
    });
    child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 1));
    });
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  process.stderr.write(`with-services: ${err?.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await cleanupAll();
}
process.exit(exitCode);
