import { AgentManager } from './agent-manager.js';
import type { AgentManagerOptions } from './agent-manager-options.js';

/**
 * Wires a runtime with the embedded defaults (in-memory bus and contexts) unless told
 * otherwise, and returns its {@link AgentManager}.
 */
export function createAgentrix(options: AgentManagerOptions = {}): AgentManager {
  return new AgentManager(options);
}
