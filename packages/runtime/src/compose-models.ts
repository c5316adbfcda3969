import type { ChatModel, TurnCommitHook } from '@agentrix/core';
import type { Gateway } from '@agentrix/gateway';
import type { Distiller, Memory, WithMemoryOptions } from '@agentrix/memory';
import type { AgentrixStore } from '@agentrix/store';
import type { ForgetHook } from './agent-manager-options.js';
import type { AgentrixOptions } from './agentrix-options.js';
import { isMemory } from './check-agentrix-options.js';
import type { Shared } from './compose-store-and-bus.js';
import type { OwnedResources } from './owned-resources.js';

/** The gateway the host passed (left open), or one built from options on the store's budgets and ledger. */
export async function buildGateway(
  option: AgentrixOptions['gateway'],
  store: AgentrixStore | undefined,
  shared: Shared,
  owned: OwnedResources,
): Promise<Gateway | undefined> {
  if (option === undefined) return undefined;
  if (typeof (option as Gateway).generate === 'function') return option as Gateway;
  // Loaded only when used: the gateway brings the openai client and a tokenizer.
  const { createGateway } = await import('@agentrix/gateway');
  const gateway = createGateway({
    ...(store ? { budgetStore: store.budgets, ledger: store.ledger } : {}),
    ...shared,
    ...option,
  });
  owned.add('gateway', () => gateway.close());
  return gateway;
}

/** The memory the host passed (left open), or one built on the store's database. */
export async function buildMemory(
  option: AgentrixOptions['memory'],
  store: AgentrixStore | undefined,
  gateway: Gateway | undefined,
  shared: Shared,
  owned: OwnedResources,
): Promise<BuiltMemory | undefined> {
  if (option === undefined) return undefined;
  if (isMemory(option)) return { memory: option, prompt: {}, distiller: undefined };
  const { prompt = {}, model, distill, ...rest } = option === true ? {} : option;
  const { createDistiller, createMemory } = await import('@agentrix/memory');
  const memory = await createMemory({
    ...rest,
    // checkAgentrixOptions refuses memory options without a store.
    database: (store as AgentrixStore).database,
    model: model ?? gateway,
    events: shared.events,
    ...(shared.clock ? { clock: shared.clock } : {}),
    ...(shared.generateId ? { generateId: shared.generateId } : {}),
  });
  // Episodes are written inside each turn's commit: closing only stops the memory, before the gateway and the store close.
  owned.add('memory', () => memory.close());
  if (distill === undefined) return { memory, prompt, distiller: undefined };
  const { model: distillModel, ...distillOptions } = distill === true ? {} : distill;
  const distiller = createDistiller({
    ...distillOptions,
    memory,
    // checkAgentrixOptions refuses distill without a gateway or a model of its own.
    model: (distillModel ?? gateway) as NonNullable<typeof distillModel>,
    ...(shared.clock ? { clock: shared.clock } : {}),
    ...(shared.generateId ? { generateId: shared.generateId } : {}),
  });
  // Added after the memory, so closed before it (newest first): its pass in flight ends first.
  owned.add('distiller', () => distiller.close());
  return { memory, prompt: { ...prompt, distiller }, distiller };
}

/** The memory `createAgentrix` wraps its models with, and the distiller it built, if any. */
export interface BuiltMemory {
  memory: Memory;
  prompt: WithMemoryOptions;
  distiller: Distiller | undefined;
}

/**
 * The manager's models by name: `model` as `default`, then `models`, then the gateway as
 * `default`. With memory, every model is wrapped (`withMemory`), each wrapper's `commitTurn`
 * joins the turn commit hooks (a turn's episode is stored before its message is acked), and a
 * forgotten thread's episodes go with its context.
 */
export async function composeModels(
  options: AgentrixOptions,
  gateway: Gateway | undefined,
  memory: BuiltMemory | undefined,
): Promise<{ models: Record<string, ChatModel>; commitHooks: TurnCommitHook[]; forgetHooks: ForgetHook[] }> {
  const models: Record<string, ChatModel> = {
    ...(options.model ? { default: options.model } : {}),
    ...options.models,
    ...(gateway ? { default: gateway } : {}),
  };
  if (!memory) return { models, commitHooks: [], forgetHooks: [] };
  const { withMemory } = await import('@agentrix/memory');
  // One wrapper per distinct model: a model registered under two names keeps one set of open turns.
  const wrapped = new Map<ChatModel, ReturnType<typeof withMemory>>();
  for (const [name, model] of Object.entries(models)) {
    let wrapper = wrapped.get(model);
    if (!wrapper) {
      wrapper = withMemory(model, memory.memory, memory.prompt);
      wrapped.set(model, wrapper);
    }
    models[name] = wrapper;
  }
  const forgetThread: ForgetHook = async (agentId, threadId) => {
    await memory.memory.forgetThread({ agentId, threadId });
  };
  return {
    models,
    commitHooks: [...wrapped.values()].map((wrapper) => wrapper.commitTurn),
    forgetHooks: [forgetThread],
  };
}
