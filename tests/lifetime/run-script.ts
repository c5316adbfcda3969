import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ScriptOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts a .ts file as a host would run a plain script (`node --import tsx`), on the workspace's
 * sources, with no test runner keeping Node alive; stdout and stderr are piped.
 */
export function startScript(
  file: string,
  env: Record<string, string> = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', file], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts a script (see {@link startScript}) and resolves with it once it prints `READY`. Rejects,
 * with what it wrote to stderr, when it exits first, or after `timeoutMs` (then it is killed).
 */
export function startReadyScript(
  file: string,
  env: Record<string, string> = {},
  timeoutMs = 45_000,
): Promise<ChildProcessByStdio<null, Readable, Readable>> {
  const child = startScript(file, env);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  return new Promise((resolve, reject) => {
    const name = path.basename(file);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it printed READY: ${stderr}`));
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print READY within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', onExit);
    // Read on after READY too: a full pipe would block the script's next write.
    let ready = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (ready) return;
      stdout += chunk;
      if (!stdout.includes('READY')) return;
      ready = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(child);
    });
  });
}

/** Stops a script: SIGTERM, then SIGKILL when it has not exited within `timeoutMs`. */
export async function stopScript(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const running = () => child.exitCode === null && child.signalCode === null;
  if (!running()) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  if (running()) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Runs a script (see {@link startScript}) and resolves when the process exits (killed after `timeoutMs`). */
export function runScript(file: string, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ScriptOutcome> {
  return new Promise((resolve, reject) => {
    const child = startScript(file, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
