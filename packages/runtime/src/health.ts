import type { AgentrixEvents, Clock, MessageBus, TimerHandle } from '@agentrix/core';
import { redactText } from '@agentrix/core';
import type { McpClientManager } from '@agentrix/skills';
import type { AgentrixStore } from '@agentrix/store';

/** One dependency's health. */
export interface HealthCheck {
  /** `ok`: answered; `down`: failed or did not answer in time; `unknown`: nothing to tell yet (no model call so far). */
  status: 'ok' | 'down' | 'unknown';
  /** How long the check (or, for the model, the last call) took. */
  latencyMs?: number;
  /** The last failure seen, redacted. */
  lastError?: string;
  /** When this was measured (epoch ms; for the model, when the last call ended). */
  at?: number;
}

/**
 * What `agentrix.health()` reports, for a readiness probe: `down` when the store or the bus is
 * down (no message can be taken or committed), `degraded` when the model or an MCP server is,
 * else `ok`.
 */
export interface AgentrixHealth {
  status: 'ok' | 'degraded' | 'down';
  checkedAt: number;
  /** Absent without a store. */
  store?: HealthCheck;
  bus: HealthCheck;
  /** From the last model calls of this process (no call is made to check: it would spend tokens). */
  model: HealthCheck;
  /** Per MCP server, by name. */
  mcp: Record<string, HealthCheck>;
}

export interface HealthOptions {
  /** A check that takes longer is `down`. Default 2 s. */
  timeoutMs?: number;
}

/** The inbox a bus check reads the stats of (any inbox would do; this one holds nothing). */
const PROBE_INBOX = 'agentrix.health';

/**
 * Checks the parts of one `Agentrix`: the store (`select 1`), the bus (an inbox's stats), each MCP
 * server (its state, and a ping when connected), all at once, each under a deadline. The model's
 * health comes from the event stream (the last call's latency, the last model error), followed
 * from the first `check()` on so that a process that never asks pays nothing on its turns.
 */
export class HealthMonitor {
  readonly #parts: { store?: AgentrixStore; bus: MessageBus; mcp?: McpClientManager };
  readonly #events: AgentrixEvents;
  readonly #clock: Clock;
  readonly #secrets: readonly string[];
  #model: HealthCheck | undefined;

  constructor(
    parts: { store?: AgentrixStore; bus: MessageBus; mcp?: McpClientManager },
    events: AgentrixEvents,
    clock: Clock,
    secrets: readonly string[] = [],
  ) {
    this.#parts = parts;
    this.#events = events;
    this.#clock = clock;
    this.#secrets = secrets;
  }

  async check(options: HealthOptions = {}): Promise<AgentrixHealth> {
    this.#followModel();
    const timeoutMs = options.timeoutMs ?? 2_000;
    const { store, bus, mcp } = this.#parts;
    const servers = mcp?.servers() ?? [];
    const [storeCheck, busCheck, ...serverChecks] = await Promise.all([
      store
        ? this.#timed(() => store.database.kysely.selectNoFrom((eb) => eb.lit(1).as('one')).execute(), timeoutMs)
        : undefined,
      this.#timed(() => bus.stats(PROBE_INBOX), timeoutMs),
      ...servers.map((server) =>
        server.state === 'connected'
          ? this.#timed(() => (mcp as McpClientManager).client(server.name).ping(), timeoutMs)
          : Promise.resolve<HealthCheck>({
              status: 'down',
              at: this.#clock.now(),
              lastError: server.lastError ? this.#redact(server.lastError) : `MCP server ${server.state}`,
            }),
      ),
    ]);
    const model = this.#model ?? { status: 'unknown' };
    const mcpChecks: Record<string, HealthCheck> = {};
    servers.forEach((server, index) => {
      mcpChecks[server.name] = serverChecks[index] as HealthCheck;
    });
    const down = storeCheck?.status === 'down' || busCheck?.status === 'down';
    const degraded = model.status === 'down' || Object.values(mcpChecks).some((check) => check.status === 'down');
    return {
      status: down ? 'down' : degraded ? 'degraded' : 'ok',
      checkedAt: this.#clock.now(),
      ...(storeCheck ? { store: storeCheck } : {}),
      bus: busCheck as HealthCheck,
      model: { ...model },
      mcp: mcpChecks,
    };
  }

  /** Subscribes once: model calls and model failures update the model's health from now on. */
  #followModel(): void {
    if (this.#model !== undefined) return;
    this.#model = { status: 'unknown' };
    this.#events.on('model.responded', ({ durationMs }) => {
      const lastError = this.#model?.lastError;
      this.#model = { status: 'ok', latencyMs: durationMs, at: this.#clock.now(), ...(lastError ? { lastError } : {}) };
    });
    this.#events.on('model.retry', ({ error }) => {
      this.#model = { ...this.#model, status: 'down', lastError: this.#redact(error.message), at: this.#clock.now() };
    });
  }

  async #timed(work: () => Promise<unknown>, timeoutMs: number): Promise<HealthCheck> {
    const started = this.#clock.now();
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve('deadline'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([work().then(() => 'done' as const), deadline]);
      const latencyMs = this.#clock.now() - started;
      return outcome === 'done'
        ? { status: 'ok', latencyMs, at: this.#clock.now() }
        : { status: 'down', latencyMs, lastError: `no answer within ${timeoutMs} ms`, at: this.#clock.now() };
    } catch (error) {
      return {
        status: 'down',
        latencyMs: this.#clock.now() - started,
        lastError: this.#redact(error instanceof Error ? error.message : String(error)),
        at: this.#clock.now(),
      };
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }

  #redact(text: string): string {
    return redactText(text, this.#secrets);
  }
}
