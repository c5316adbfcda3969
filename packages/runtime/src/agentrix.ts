import type { Gateway } from '@agentrix/gateway';
import type { Memory } from '@agentrix/memory';
import type { McpClientManager, SkillExecutor, SkillRegistry } from '@agentrix/skills';
import type { AgentrixStore } from '@agentrix/store';
import { AgentManager } from './agent-manager.js';
import type { AgentManagerOptions } from './agent-manager-options.js';
import type { OwnedResources } from './owned-resources.js';

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
}

/**
 * An {@link AgentManager} with the parts `createAgentrix` composed for it. `close()` (and
 * `await using`) stops the agents first, then closes what `createAgentrix` opened, newest first
 * (memory, MCP servers, approval gate, gateway, bus, store), and nothing the host passed in.
 */
export class Agentrix extends AgentManager {
  readonly gateway: Gateway | undefined;
  readonly store: AgentrixStore | undefined;
  readonly skills: AgentrixSkills;
  readonly mcp: McpClientManager | undefined;
  readonly memory: Memory | undefined;
  readonly #owned: OwnedResources;
  #closing: Promise<void> | undefined;

  /** Use `createAgentrix`. */
  constructor(options: AgentManagerOptions, parts: AgentrixParts, owned: OwnedResources) {
    super(options);
    this.gateway = parts.gateway;
    this.store = parts.store;
    this.skills = parts.skills;
    this.mcp = parts.mcp;
    this.memory = parts.memory;
    this.#owned = owned;
  }

  override close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await super.close(options);
      } finally {
        await this.#owned.close();
      }
    })();
    return this.#closing;
  }
}
