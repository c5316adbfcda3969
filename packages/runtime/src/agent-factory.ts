import type {
  AgentRegistry,
  AgentrixEvents,
  AgentSpec,
  AgentState,
  ChatModel,
  Clock,
  IdGenerator,
  Logger,
  MessageBus,
  SerializedError,
  Tool,
} from '@agentrix/core';
import { AgentrixError } from '@agentrix/core';
import type { AgentPool } from './agent-pool.js';
import { AgentRuntime } from './agent-runtime.js';
import type { ContextManager } from './context-manager.js';
import { createToolSet, type ToolSet } from './tool-set.js';

export interface AgentFactoryDependencies {
  models: ReadonlyMap<string, ChatModel>;
  tools: ReadonlyMap<string, Tool<any, unknown>>;
  bus: MessageBus;
  contexts: ContextManager;
  pool: AgentPool;
  clock: Clock;
  events: AgentrixEvents;
  generateId: IdGenerator;
  logger: Logger;
  consumer: string;
  send: MessageBus['send'];
  registry: AgentRegistry;
}

/**
 * Builds an {@link AgentRuntime} from a validated spec: resolves its model and tools by
 * name (typed errors listing what is registered) and shares one tool set between agents
 * with the same tools.
 */
export class AgentFactory {
  readonly #toolSets = new Map<string, ToolSet>();

  constructor(private readonly deps: AgentFactoryDependencies) {}

  /** Throws MODEL_NOT_FOUND / TOOL_NOT_FOUND when the spec names something unregistered. */
  resolve(spec: AgentSpec): { model: ChatModel; tools: ToolSet } {
    const model = this.deps.models.get(spec.model);
    if (!model) {
      throw new AgentrixError(
        'MODEL_NOT_FOUND',
        `Agent "${spec.id}" asks for model "${spec.model}", which is not registered. Registered models: ${
          [...this.deps.models.keys()].join(', ') || 'none (pass `models` to the manager)'
        }`,
        { agentId: spec.id },
      );
    }
    const key = spec.tools.join('\n');
    let tools = this.#toolSets.get(key);
    if (!tools) {
      const resolved = spec.tools.map((name) => {
        const tool = this.deps.tools.get(name);
        if (!tool) {
          throw new AgentrixError(
            'TOOL_NOT_FOUND',
            `Agent "${spec.id}" lists tool "${name}", which is not registered. Registered tools: ${
              [...this.deps.tools.keys()].join(', ') || 'none'
            }`,
            { agentId: spec.id, toolName: name },
          );
        }
        return tool;
      });
      tools = createToolSet(resolved);
      this.#toolSets.set(key, tools);
    }
    return { model, tools };
  }

  /** A runtime in `state` (default `created`), e.g. restored from a registry. */
  create(spec: AgentSpec, state?: AgentState, lastError?: SerializedError): AgentRuntime {
    const { model, tools } = this.resolve(spec);
    const { bus, contexts, pool, clock, events, generateId, logger, consumer, send, registry } = this.deps;
    return new AgentRuntime(
      { spec, model, tools, bus, contexts, pool, clock, events, generateId, logger, consumer, send, registry },
      state,
      lastError,
    );
  }

  /** Forget cached tool sets (after tools are registered or replaced). */
  clearCache(): void {
    this.#toolSets.clear();
  }
}
