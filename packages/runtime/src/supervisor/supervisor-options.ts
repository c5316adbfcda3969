import type { AgentrixEvents, Clock, Logger } from '@agentrix/core';
import { z } from 'zod';
import type { CrashLoopEvent } from './supervisor-events.js';

/** When a worker that exited on its own is started again. */
export type RestartPolicy = 'on-failure' | 'always' | 'never';

/** Where a worker's stdout and stderr go. The supervisor never parses them. */
export type WorkerOutput = 'inherit' | 'ignore' | 'logger';

/**
 * One worker process: a command and its arguments, like `spawn(command, args, { env, cwd })`.
 * There is deliberately no IPC option: the supervisor and its workers share no channel that could
 * carry messages or prompts, only the process lifecycle (start, exit code, signal).
 */
export interface WorkerDefinition {
  /** Unique among the supervisor's workers; used in events, logs and `stop(name)`. */
  name: string;
  /** The executable, e.g. `process.execPath` or `node`. */
  command: string;
  /** Default `[]`. */
  args?: readonly string[];
  /** Variables added to the environment. Default: none. */
  env?: Record<string, string>;
  /** Whether the worker also gets the supervisor's own `process.env` (under `env`). Default `true`. */
  inheritEnv?: boolean;
  /** Working directory. Default: the supervisor's. */
  cwd?: string;
  /**
   * `inherit` (default): the worker writes to the host's stdout / stderr directly.
   * `ignore`: discarded. `logger`: each chunk goes as-is to the supervisor's logger
   * (`info` for stdout, `warn` for stderr), as opaque text.
   */
  output?: WorkerOutput;
  /**
   * `on-failure` (default): restart after a non-zero exit code or a signal; a clean exit (code 0)
   * stops the worker. `always`: also restart after a clean exit (not counted as a crash).
   * `never`: never restart.
   */
  restart?: RestartPolicy;
}

export interface SupervisorBackoffOptions {
  /** Delay before the first restart after a crash. Default 500 ms. */
  initialDelayMs?: number;
  /** Cap on the delay. Default 30 s. */
  maxDelayMs?: number;
  /** Multiplier per consecutive crash. Default 2. */
  factor?: number;
  /** A worker that ran at least this long before crashing starts again from `initialDelayMs`. Default 60 s. */
  resetAfterMs?: number;
}

export interface CrashLoopOptions {
  /** This many crashes within `windowMs` stop the restarts and mark the worker failed. Default 5. */
  maxCrashes?: number;
  /** Default 60 s. */
  windowMs?: number;
}

/** What the rollback hook may answer: `restart` clears the crash history and starts the worker again. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook with no return statement must type-check
export type RollbackResult = void | 'restart';

export interface SupervisorOptions {
  /** The workers to run (at least one; names unique). */
  workers: readonly WorkerDefinition[];
  backoff?: SupervisorBackoffOptions;
  crashLoop?: CrashLoopOptions;
  /** Sent to a worker on `stop()` / `close()`. Default `SIGTERM`. */
  stopSignal?: 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT';
  /** How long a stopping worker may take before it gets SIGKILL. Default 10 s. */
  gracePeriodMs?: number;
  /**
   * Called when a worker enters a crash loop (after `worker.crash-loop` is emitted), e.g. to roll
   * a deployment back. Return `'restart'` to start the worker again with a clean crash history.
   * Its `signal` aborts when the supervisor closes. Errors it throws are logged, never rethrown.
   */
  rollback?: (event: CrashLoopEvent, options: { signal: AbortSignal }) => RollbackResult | Promise<RollbackResult>;
  /** The stream to emit `worker.*` on (give the runtime's to get one stream). Default: a new `AgentrixEvents`, as `supervisor.events`. */
  events?: AgentrixEvents;
  /** Timers for backoff and the grace period. Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

const WorkerDefinitionSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._:-]+$/, 'use letters, digits, ".", "_", ":" or "-"'),
  command: z.string().min(1),
  args: z.array(z.string()).readonly().default([]),
  env: z.record(z.string(), z.string()).default({}),
  inheritEnv: z.boolean().default(true),
  cwd: z.string().min(1).optional(),
  output: z.enum(['inherit', 'ignore', 'logger']).default('inherit'),
  restart: z.enum(['on-failure', 'always', 'never']).default('on-failure'),
});

const isFunction = (value: unknown) => typeof value === 'function';
const hasMethods =
  (...names: string[]) =>
  (value: unknown) =>
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

export const SupervisorOptionsSchema = z.strictObject({
  workers: z
    .array(WorkerDefinitionSchema)
    .min(1, 'give at least one worker')
    .superRefine((workers, context) => {
      const seen = new Set<string>();
      for (const [index, worker] of workers.entries()) {
        if (seen.has(worker.name)) {
          context.addIssue({
            code: 'custom',
            path: [index, 'name'],
            message: `duplicate worker name "${worker.name}"`,
          });
        }
        seen.add(worker.name);
      }
    }),
  backoff: z
    .strictObject({
      initialDelayMs: z.number().int().min(0).default(500),
      maxDelayMs: z.number().int().min(0).default(30_000),
      factor: z.number().min(1).default(2),
      resetAfterMs: z.number().int().positive().default(60_000),
    })
    .refine((backoff) => backoff.maxDelayMs >= backoff.initialDelayMs, {
      message: 'maxDelayMs must be >= initialDelayMs',
      path: ['maxDelayMs'],
    })
    .default({ initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, resetAfterMs: 60_000 }),
  crashLoop: z
    .strictObject({
      maxCrashes: z.number().int().min(1).default(5),
      windowMs: z.number().int().positive().default(60_000),
    })
    .default({ maxCrashes: 5, windowMs: 60_000 }),
  stopSignal: z.enum(SIGNALS).default('SIGTERM'),
  gracePeriodMs: z.number().int().min(0).default(10_000),
  rollback: z.custom<NonNullable<SupervisorOptions['rollback']>>(isFunction, 'expected a function').optional(),
  clock: z.custom<Clock>(hasMethods('now', 'setTimeout', 'clearTimeout'), 'expected a Clock').optional(),
  logger: z.custom<Logger>(hasMethods('debug', 'info', 'warn', 'error'), 'expected a Logger').optional(),
  events: z.custom<AgentrixEvents>(hasMethods('on', 'off', 'emit', 'has'), 'expected an AgentrixEvents').optional(),
});

/** Options after validation, with every default filled in. */
export type ResolvedSupervisorOptions = z.output<typeof SupervisorOptionsSchema>;
export type ResolvedWorkerDefinition = ResolvedSupervisorOptions['workers'][number];
