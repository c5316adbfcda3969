// `@agentrix/bus/implement`: the blocked-read machinery every MessageBus here shares (InMemoryBus,
// RedisStreamsBus, SqlMessageBus in @agentrix/store), for implementers of a bus, not for hosts.
export {
  addWaiter,
  closeFailure,
  type InboxWaiter,
  releaseWaiters,
  removeWaiter,
  settleWaiter,
  type WaitRequest,
} from './blocked-reads.js';
export { emitDeadLettered } from './dead-letter-events.js';
export { InboxPump } from './inbox-pump.js';
export { InboxTimer } from './inbox-timer.js';
