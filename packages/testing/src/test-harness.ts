import type { AgentrixEventMap, AgentrixEventName, AgentSpecInput, ChatModel, MessageEnvelope } from '@agentrix/core';
import { AgentManager, type AgentManagerOptions, type WaitForIdleOptions } from '@agentrix/runtime';
import { MockLLM } from './mock-llm.js';

/** Every event name, so a harness can record them all. */
const EVENT_NAMES: readonly AgentrixEventName[] = [
  'agent.created',
  'agent.state',
  'turn.started',
  'turn.completed',
  'turn.failed',
  'model.token',
  'model.responded',
  'model.retry',
  'tool.called',
  'tool.completed',
  'message.sent',
  'message.received',
  'message.dead-lettered',
];

export type RecordedEvent = { [K in AgentrixEventName]: { name: K; event: AgentrixEventMap[K] } }[AgentrixEventName];

export interface TestHarnessOptions extends Omit<AgentManagerOptions, 'model'> {
  /** The default model. Default: a new `MockLLM` (script it through `harness.model`). */
  model?: ChatModel;
  /** Agents to create and start. */
  agents?: AgentSpecInput[];
  /** Record every event in `harness.events` (tokens excluded unless `recordTokens`). Default true. */
  recordEvents?: boolean;
  recordTokens?: boolean;
}

export interface TestHarness extends AsyncDisposable {
  readonly manager: AgentManager;
  /** The default model: the `MockLLM` created for you, or the one you passed. */
  readonly model: ChatModel;
  /** Recorded events in order. */
  readonly events: RecordedEvent[];
  /** Events of one name, payloads only. */
  eventsOf<K extends AgentrixEventName>(name: K): AgentrixEventMap[K][];
  /** Sends from `host`. */
  send(to: string, content: string): Promise<MessageEnvelope>;
  /** Sends and waits for the reply text. */
  ask(to: string, content: string, timeoutMs?: number): Promise<string>;
  /** Resolves when no agent is running or has work waiting (see `AgentManager.waitForIdle`). */
  runUntilIdle(options?: WaitForIdleOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * An in-memory runtime for a host app's unit tests: an `AgentManager` on an `InMemoryBus`
 * with a `MockLLM` as the default model, every event recorded, and `runUntilIdle()`.
 */
export async function createTestHarness(options: TestHarnessOptions = {}): Promise<TestHarness> {
  const { agents = [], recordEvents = true, recordTokens = false, model = new MockLLM(), ...managerOptions } = options;
  const manager = new AgentManager({ ...managerOptions, model });
  const events: RecordedEvent[] = [];
  if (recordEvents) {
    for (const name of EVENT_NAMES) {
      if (name === 'model.token' && !recordTokens) continue;
      const record = (event: unknown) => {
        events.push({ name, event } as RecordedEvent);
      };
      manager.events.on(name, record as never);
    }
  }
  for (const spec of agents) await manager.create(spec);
  const close = () => manager.close();
  return {
    manager,
    model,
    events,
    eventsOf: <K extends AgentrixEventName>(name: K) =>
      events.filter((recorded) => recorded.name === name).map((recorded) => recorded.event as AgentrixEventMap[K]),
    send: (to, content) => manager.send({ to, content }),
    ask: async (to, content, timeoutMs) =>
      (await manager.ask(to, content, timeoutMs === undefined ? {} : { timeoutMs })).content,
    runUntilIdle: (waitOptions) => manager.waitForIdle(waitOptions),
    close,
    [Symbol.asyncDispose]: close,
  };
}
