import { createRedisBus, type RedisClientLike } from '@agentrix/bus';
import type { AgentrixEvents, Clock, IdGenerator, Logger, MessageBus } from '@agentrix/core';
import type { AgentrixStore } from '@agentrix/store';
import type { AgentrixOptions } from './agentrix-options.js';
import { isMessageBus, isRedisClient } from './check-agentrix-options.js';
import type { OwnedResources } from './owned-resources.js';

/**
 * What every part built here shares. `clock` and `generateId` are absent (not undefined) when the
 * host gave none, so `...shared` in a part's options leaves that part its own default.
 */
export interface Shared {
  clock?: Clock;
  generateId?: IdGenerator;
  events: AgentrixEvents;
  /** Already redacting the host's secrets. */
  logger: Logger;
}

/** The store the host passed (left open), or one opened from a URL or options (closed last). */
export async function openStore(
  option: AgentrixOptions['store'],
  shared: Shared,
  owned: OwnedResources,
): Promise<AgentrixStore | undefined> {
  if (option === undefined) return undefined;
  if (typeof option === 'object' && 'contexts' in option && 'bus' in option) return option;
  // Loaded only when used: the store brings kysely and PGlite, which a host without one never needs.
  const { createAgentrixStore } = await import('@agentrix/store');
  const store = await createAgentrixStore({
    ...shared,
    ...(typeof option === 'string' ? { url: option } : option),
  });
  owned.add('store', () => store.close());
  return store;
}

/**
 * The bus for the manager; `undefined` lets the manager make (and close) an `InMemoryBus`. A bus
 * built here from a URL, a client or options is closed by `close()` (a client passed in is not:
 * the bus closes only the connection it opened itself).
 */
export async function openBus(
  option: AgentrixOptions['bus'],
  store: AgentrixStore | undefined,
  shared: Shared,
  owned: OwnedResources,
): Promise<MessageBus | undefined> {
  const choice = option ?? (store ? 'store' : 'memory://');
  if (choice === 'memory://') return undefined;
  if (choice === 'store') return (store as AgentrixStore).bus;
  if (typeof choice === 'object' && isMessageBus(choice)) return choice;
  const bus = await createRedisBus(
    typeof choice === 'string'
      ? { ...shared, url: choice }
      : isRedisClient(choice)
        ? { ...shared, client: choice as RedisClientLike }
        : { ...shared, ...choice },
  );
  owned.add('bus', () => bus.close());
  return bus;
}
