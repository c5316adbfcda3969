import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the sender process reports when it is done (see wake-sender.ts). */
export interface SenderReport {
  sent: number;
  /** Its CPU time (user + system) over the sends, µs. */
  cpuMicros: number;
  /** Its GC pauses, [start, end] on the monotonic clock (ms). */
  gcs: Array<[number, number]>;
  failure?: string;
}

export interface SenderOptions {
  url: string;
  /** The bus namespace of the readers. */
  namespace: string;
  agents: readonly string[];
  rate: number;
  ms: number;
}

const script = fileURLToPath(new URL('./wake-sender.ts', import.meta.url));

/**
 * Forks wake-sender.ts (same Node flags as this process) and waits until its bus is connected;
 * `run(onStart)` starts the sends, tells `onStart` when they began (monotonic ms) and resolves
 * with the report once every send was answered.
 */
export async function startSenderProcess(
  options: SenderOptions,
): Promise<{ pid: number; run(onStart?: (began: number) => void): Promise<SenderReport> }> {
  const child = fork(script, [], { execArgv: process.execArgv });
  child.send(options);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  });
  return {
    pid: child.pid ?? -1,
    async run(onStart) {
      const report = new Promise<SenderReport>((resolve) => {
        const onMessage = (message: unknown) => {
          const began = (message as { began?: number }).began;
          if (began !== undefined) return onStart?.(began);
          child.off('message', onMessage);
          resolve(message as SenderReport);
        };
        child.on('message', onMessage);
      });
      child.send('go');
      const result = await report;
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      if (result.failure !== undefined) throw new Error(`sender process: ${result.failure}`);
      return result;
    },
  };
}
