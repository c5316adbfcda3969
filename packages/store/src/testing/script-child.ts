// Test support (exported from @agentrix/store/testing): runs a plain script in a child Node
// process, as a host would (`node --import tsx`, on the workspace's sources), and SIGKILLs it on
// a line it prints: the crash of crash tests. Node resolves `tsx` from the working directory up.
import { spawn } from 'node:child_process';

export interface ScriptChildOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** SIGKILL the child once it prints this line; it must print it before it exits. */
  killOn?: string;
  /** Wait this long (ms) after the `killOn` line before the kill, if the child still runs. Default 0. */
  killAfterMs?: number;
  /** A child still running after this long (ms) is killed and fails. Default 60 000. */
  timeoutMs?: number;
}

export interface ScriptChildOutcome {
  /** Everything it printed on stdout. */
  output: string;
  /** Killed on the `killOn` line (else it exited with code 0). */
  killed: boolean;
}

/**
 * Runs `script` until it exits with code 0 or is killed on the `killOn` line; any other end
 * (another code or signal, an exit before the `killOn` line, the timeout) rejects with its
 * stdout and the tail of its stderr.
 */
export function runScriptChild(script: string, options: ScriptChildOptions = {}): Promise<ScriptChildOutcome> {
  const { env = {}, killOn, killAfterMs = 0, timeoutMs = 60_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    let killed = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const timeout = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (killOn !== undefined && killTimer === undefined && output.includes(`${killOn}\n`)) {
        killTimer = setTimeout(kill, killAfterMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      if (killed && signal === 'SIGKILL') return resolve({ output, killed: true });
      if (code === 0 && (killOn === undefined || killTimer !== undefined)) return resolve({ output, killed: false });
      reject(new Error(`${script} ended with code ${code}, signal ${signal}:\n${output}\n${errors}`));
    });
  });
}
