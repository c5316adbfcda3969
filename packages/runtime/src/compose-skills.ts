import type { ApprovalGate, McpClientManager } from '@agentrix/skills';
import type { AgentrixStore } from '@agentrix/store';
import type { AgentrixSkills } from './agentrix.js';
import type { AgentrixOptions } from './agentrix-options.js';
import type { Shared } from './compose-store-and-bus.js';
import type { OwnedResources } from './owned-resources.js';

/**
 * The one tool pipeline: local tools and skills (and MCP tools, see {@link startMcp}) in one
 * registry, run by one `SkillExecutor`: idempotency keys on the store, approvals, retries,
 * timeouts, tool events, redaction of the host's secrets.
 */
export async function buildSkills(
  options: AgentrixOptions,
  store: AgentrixStore | undefined,
  shared: Shared,
  owned: OwnedResources,
): Promise<AgentrixSkills> {
  // Loaded when a runtime is composed, not when @agentrix/runtime is imported (it brings the MCP SDK).
  const { ApprovalGate, SkillExecutor, SkillRegistry } = await import('@agentrix/skills');
  const { events } = shared;
  const registry = new SkillRegistry({ events });
  for (const tool of options.tools ?? []) registry.register(tool);
  for (const skill of options.skills ?? []) registry.register(skill);
  let approvals: ApprovalGate;
  if (options.approvals instanceof ApprovalGate) {
    approvals = options.approvals;
  } else {
    const gate = new ApprovalGate({
      ...shared,
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...options.approvals,
    });
    owned.add('approval gate', () => gate.close());
    approvals = gate;
  }
  const executor = new SkillExecutor({
    registry,
    approvals,
    events,
    logger: shared.logger,
    ...(store ? { idempotency: store.idempotency } : {}),
    ...(options.toolTimeoutMs !== undefined ? { defaultTimeoutMs: options.toolTimeoutMs } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(shared.clock ? { clock: shared.clock } : {}),
  });
  return { registry, executor };
}

/** Starts the MCP servers (all of them, then the first failure is thrown); their tools join the registry. */
export async function startMcp(
  option: AgentrixOptions['mcp'],
  skills: AgentrixSkills,
  shared: Shared,
  owned: OwnedResources,
): Promise<McpClientManager | undefined> {
  if (option === undefined) return undefined;
  const { McpClientManager } = await import('@agentrix/skills');
  const { servers, ...client } = option;
  const mcp = new McpClientManager({
    ...client,
    registry: skills.registry,
    events: shared.events,
    logger: shared.logger,
    ...(shared.clock ? { clock: shared.clock } : {}),
  });
  owned.add('mcp servers', () => mcp.close());
  const started = await Promise.allSettled(servers.map((server) => mcp.add(server)));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return mcp;
}
