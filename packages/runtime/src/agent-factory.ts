import type { AgentSpec, AgentState, ChatModel, SerializedError, Tool } from '@agentrix/core';
import { AgentrixError } from '@agentrix/core';
import { isToolPattern } from '@agentrix/skills';
import { AgentRuntime } from './agent-runtime.js';
import type { AgentRuntimeDependencies } from './agent-runtime-dependencies.js';
import { composeToolSets, createToolSet, type ToolSet, type ToolSource } from './tool-set.js';

/** What every agent shares, plus the models and tools its spec picks from by name. */
export interface AgentFactoryDependencies extends AgentRuntimeDependencies {
  models: ReadonlyMap<string, ChatModel>;
  tools: ReadonlyMap<string, Tool<any, unknown>>;
  /** Resolves the names `tools` does not have (skills, MCP tools); their set stays live. */
  toolSource?: ToolSource;
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
      const source = this.deps.toolSource;
      const elsewhere = source ? spec.tools.filter((name) => !this.deps.tools.has(name)) : [];
      const external = source && elsewhere.length > 0 ? source.select(elsewhere) : undefined;
      const resolved = spec.tools.flatMap((name) => {
        const tool = this.deps.tools.get(name);
        if (!tool && external && (isToolPattern(name) || external.byName.has(name))) return [];
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
      tools = external ? composeToolSets(createToolSet(resolved), external) : createToolSet(resolved);
      this.#toolSets.set(key, tools);
    }
    return { model, tools };
  }

  /** A runtime in `state` (default `created`), e.g. restored from a registry. */
  create(spec: AgentSpec, state?: AgentState, lastError?: SerializedError): AgentRuntime {
    // The dependencies object is shared by every runtime: no per-agent copy.
    return new AgentRuntime(this.deps, { spec, ...this.resolve(spec) }, state, lastError);
  }

  /** Forget cached tool sets (after tools are registered or replaced). */
  clearCache(): void {
    this.#toolSets.clear();
  }
}
