import { AgentrixEvents, redactingLogger, silentLogger, systemClock } from '@agentrix/core';
import { Agentrix } from './agentrix.js';
import type { AgentrixOptions } from './agentrix-options.js';
import { checkAgentrixOptions } from './check-agentrix-options.js';
import { buildGateway, buildMemory, composeModels } from './compose-models.js';
import { openTelemetry, operatedBus, tracedToolExecutor } from './compose-operations.js';
import { buildSkills, startMcp } from './compose-skills.js';
import { openBus, openStore, type Shared } from './compose-store-and-bus.js';
import { HealthMonitor } from './health.js';
import { OwnedResources } from './owned-resources.js';
import { handleSignals } from './shutdown.js';

/**
 * The one way to compose a runtime: takes what the host has (a model or a gateway, a store, a bus,
 * tools, skills, MCP servers, memory, approvals, a logger) and wires the rest. Every local tool,
 * skill and MCP tool runs through one `SkillExecutor`; the store, when given, keeps contexts, agent
 * specs, idempotency records, budgets and the ledger. Opened in this order: store, bus, gateway,
 * skills, MCP servers, memory, agents; `close()` (or `await using`) closes in the reverse order
 * what was opened here, and nothing the host passed in.
 *
 * ```ts
 * await using agentrix = await createAgentrix({ model, tools: [weather] });
 * ```
 *
 * Bad options are `INVALID_ARGUMENT` (unknown keys, a store URL of an unknown scheme, a bus that
 * is not `redis://`, gateway options without a provider...); when a step fails, what the steps
 * before it opened is closed before the error is thrown.
 */
export async function createAgentrix(options: AgentrixOptions = {}): Promise<Agentrix> {
  checkAgentrixOptions(options);
  const shared: Shared = {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.generateId ? { generateId: options.generateId } : {}),
    events: options.events ?? new AgentrixEvents(),
    logger: options.logger ? redactingLogger(options.logger, options.secrets) : silentLogger,
  };
  const owned = new OwnedResources(shared.logger);
  try {
    const telemetry = await openTelemetry(options, shared, owned);
    const store = await openStore(options.store, shared, owned);
    const bus = operatedBus(await openBus(options.bus, store, shared, owned), telemetry, options, shared, owned);
    const gateway = await buildGateway(options.gateway, store, shared, owned);
    const skills = await buildSkills(options, store, shared, owned);
    const mcp = await startMcp(options.mcp, skills, shared, owned);
    const memory = await buildMemory(options.memory, store, gateway, shared, owned);
    const { models, commitHooks, forgetHooks } = await composeModels(options, gateway, memory);
    const {
      gateway: _gateway,
      store: _store,
      bus: _bus,
      skills: _skills,
      mcp: _mcp,
      memory: _memory,
      approvals: _approvals,
      telemetry: _telemetry,
      shutdown,
      tools: _tools,
      model: _model,
      onTurnCommit,
      onForget,
      ...manager
    } = options;
    const agentrix = new Agentrix(
      {
        ...manager,
        models,
        events: shared.events,
        bus,
        ...(store ? { contextStore: options.contextStore ?? store.contexts } : {}),
        ...(store ? { registry: options.registry ?? store.registry } : {}),
        toolExecutor: tracedToolExecutor(skills.executor, telemetry),
        toolSource: skills.registry,
        approvals: skills.executor.approvals,
        onTurnCommit: [...(onTurnCommit === undefined ? [] : [onTurnCommit].flat()), ...commitHooks],
        onForget: [...(onForget === undefined ? [] : [onForget].flat()), ...forgetHooks],
      },
      { gateway, store, skills, mcp, memory: memory?.memory, distiller: memory?.distiller, telemetry },
      owned,
      {
        bus,
        health: new HealthMonitor(
          { bus, ...(store ? { store } : {}), ...(mcp ? { mcp } : {}) },
          shared.events,
          shared.clock ?? systemClock,
          options.secrets,
        ),
        clock: shared.clock,
      },
    );
    if (telemetry) {
      owned.add(
        'telemetry gauges',
        telemetry.observe({
          bus,
          inboxes: () => agentrix.list().map((agent) => agent.id),
          pool: agentrix.pool,
          ...(gateway ? { budgets: () => gateway.budgetStatus() } : {}),
        }),
      );
    }
    if (shutdown)
      owned.add('signal handlers', handleSignals(agentrix, shutdown === true ? {} : shutdown, shared.logger));
    return agentrix;
  } catch (error) {
    // Failures while closing are logged by `owned`; the caller gets the error that stopped the build.
    await owned.close().catch(() => {});
    throw error;
  }
}
