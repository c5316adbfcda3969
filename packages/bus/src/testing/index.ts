// `@agentrix/bus/testing`: the `MessageBus` contract suite every implementation runs (in memory,
// Redis, SQL; a third-party bus can run it too), and the Redis servers the Redis tests start.
export type { CleanupMessageBus, CreateMessageBus, MessageBusContractOptions } from '../message-bus.contract.js';
export { messageBusContract } from '../message-bus.contract.js';
export { OwnRedisCluster, OwnRedisServer, REDIS_SERVER_BIN, requireRedisUrl } from '../redis-test-support.js';
