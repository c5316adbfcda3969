export { createInMemoryBus, InMemoryBus } from './in-memory-bus.js';
export type { InMemoryBusOptions } from './in-memory-bus-options.js';
