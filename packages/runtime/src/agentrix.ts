import { type Clock, systemClock } from '@agentrix/core';
import type { Gateway } from '@agentrix/gateway';
import type { Distiller, Memory } from '@agentrix/memory';
import type { AgentrixTelemetry } from '@agentrix/otel';
import type { McpClientManager, SkillExecutor, SkillRegistry } from '@agentrix/skills';
import type { AgentrixStore } from '@agentrix/store';
import { AgentManager } from './agent-manager.js';
import { type AgentManagerOptions, DEFAULT_CLOSE_TIMEOUT_MS } from './agent-manager-options.js';
import type { AgentrixHealth, HealthMonitor, HealthOptions } from './health.js';
import type { LifecycleBus } from './lifecycle-bus.js';
import type { OwnedResources } from './owned-resources.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './shutdown.js';

/** The one tool pipeline: every local tool, skill and MCP tool is in the registry and run by the executor. */
export interface AgentrixSkills {
  readonly registry: SkillRegistry;
  readonly executor: SkillExecutor;
}

/** What `createAgentrix` built around the manager (undefined: not configured). */
export interface AgentrixParts {
  gateway: Gateway | undefined;
  store: AgentrixStore | undefined;
  skills: AgentrixSkills;
  mcp: McpClientManager | undefined;
  memory: Memory | undefined;
  /** `memory.distill` as built: `distill(scope)` / `sweep()` on demand. */
  distiller: Distiller | undefined;
  /** `options.telemetry` as built; pass it to a `JobQueue` (`tracing`) so its jobs continue the trace that added them. */
  telemetry: AgentrixTelemetry | undefined;
}

/** How an `Agentrix` stops and reports on itself (built by `createAgentrix`). */
export interface AgentrixOperations {
  bus: LifecycleBus;
  health: HealthMonitor;
  clock: Clock | undefined;
}

/**
 * An {@link AgentManager} with the parts `createAgentrix` composed for it. `close()` (and
 * `await using`) stops the agents first, then closes what `createAgentrix` opened, newest first
 * (memory, MCP servers, approval gate, gateway, bus, store), and nothing the host passed in.
 */
export class Agentrix extends AgentManager {
  /** The bus the agents use: the chosen one (`bus.inner`), able to drain for `shutdown()`. */
  declare readonly bus: LifecycleBus;
  readonly gateway: Gateway | undefined;
  readonly store: AgentrixStore | undefined;
  readonly skills: AgentrixSkills;
  readonly mcp: McpClientManager | undefined;
  readonly memory: Memory | undefined;
  readonly distiller: Distiller | undefined;
  readonly telemetry: AgentrixTelemetry | undefined;
  readonly #owned: OwnedResources;
  readonly #operations: AgentrixOperations;
  readonly #closeTimeoutMs: number;
  #closing: Promise<void> | undefined;
  #shuttingDown: Promise<void> | undefined;
  #stopWaiting: (() => void) | undefined;

  /** Use `createAgentrix`. */
  constructor(
    options: AgentManagerOptions,
    parts: AgentrixParts,
    owned: OwnedResources,
    operations: AgentrixOperations,
  ) {
    super(options);
    this.gateway = parts.gateway;
    this.store = parts.store;
    this.skills = parts.skills;
    this.mcp = parts.mcp;
    this.memory = parts.memory;
    this.distiller = parts.distiller;
    this.telemetry = parts.telemetry;
    this.#owned = owned;
    this.#operations = operations;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  }

  /** The store, the bus, the model and the MCP servers, each with its latency and last error (for `/readyz`). */
  health(options?: HealthOptions): Promise<AgentrixHealth> {
    return this.#operations.health.check(options);
  }

  /**
   * Stops gracefully: takes no new message, lets running turns finish for up to `timeoutMs`
   * (default 10 s; then they are aborted and their messages given back), gives back at once
   * whatever this process still holds on the bus (another process takes it now, not after the
   * lease), and closes. A second call returns the same promise; one with `timeoutMs: 0` stops
   * waiting for running turns.
   */
  shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (this.#shuttingDown !== undefined) {
      if (timeoutMs === 0) this.#stopWaiting?.();
      return this.#shuttingDown;
    }
    this.#shuttingDown = (async () => {
      this.#operations.bus.drain();
      await this.#turnsEnded(timeoutMs);
      await this.close();
    })();
    return this.#shuttingDown;
  }

  /** Resolves when no agent is running a turn, after `timeoutMs`, or when told to stop waiting. */
  async #turnsEnded(timeoutMs: number): Promise<void> {
    const running = () => this.list().some((agent) => agent.state === 'running');
    if (!running()) return;
    const clock = this.#operations.clock ?? systemClock;
    await new Promise<void>((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        this.events.off('agent.state', onState);
        this.#stopWaiting = undefined;
        resolve();
      };
      const onState = () => {
        if (!running()) done();
      };
      // Awaited by the shutdown: a timer that keeps the process alive until it fires.
      const timer = clock.setTimeout(done, timeoutMs);
      this.#stopWaiting = done;
      this.events.on('agent.state', onState);
    });
  }

  override close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const clock = this.#operations.clock ?? systemClock;
      const deadline = clock.now() + (options.timeoutMs ?? this.#closeTimeoutMs);
      try {
        await super.close(options);
      } finally {
        // What this process still holds goes to other processes now, not after the lease: best
        // effort within close's deadline (a bus that is down would hold the close for its whole
        // reconnect time; the lease brings the deliveries back anyway).
        await settledWithin(this.bus.releaseHeld(), deadline - clock.now(), clock);
        await this.#owned.close();
      }
    })();
    return this.#closing;
  }
}

/** Waits for `work` (its failure ignored) for at most `timeoutMs`; the timer is cleared either way. */
async function settledWithin(work: Promise<unknown>, timeoutMs: number, clock: Clock): Promise<void> {
  if (timeoutMs <= 0) return;
  let timer: unknown;
  await Promise.race([
    work.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, timeoutMs);
    }),
  ]);
  clock.clearTimeout(timer);
}
