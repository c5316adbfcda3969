export type { RedisClientLike } from '@agentrix/core/implement';
export { createInMemoryBus, InMemoryBus } from './in-memory-bus.js';
export type { InMemoryBusOptions } from './in-memory-bus-options.js';
export { RedisStreamsBus } from './redis-streams-bus.js';
export { createRedisBus } from './redis-streams-bus-factory.js';
export type {
  CreateRedisBusOptions,
  RedisStreamsBusBaseOptions,
  RedisStreamsBusOptions,
} from './redis-streams-bus-options.js';
