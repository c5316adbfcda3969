// `@agentrix/core/implement`: helpers for implementers of core's ports (a MessageBus, a store, a
// model provider, a memory), not for hosts. The main entry stays the spec a host depends on; what
// changes with how buses and stores are built lives here (the AI SDK's `provider-utils` split).

export { type AbortWatcher, untilAborted, unwatchAbort, watchAbort } from './async.js';
export {
  armBlockedRead,
  type BlockedRead,
  clearBlockedReadTimer,
  settleBlockedRead,
} from './blocked-read.js';
export type { CheckedSend, ResolvedReadOptions } from './bus-support.js';
export {
  busClosed,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  DEFAULT_DEAD_LETTER_LIMIT,
  groupNotFound,
  invalidMessage,
  messageBusOptionFields,
  messageIds,
  parseBroadcastInput,
  positiveLimit,
  quote,
  resolveReadOptions,
  utf8Length,
  validateAddress,
} from './bus-support.js';
export { invalidArgument } from './errors.js';
export { ForwardingBus } from './forwarding-bus.js';
export { type HistoryLimits, type HistoryWindow, historyWindow } from './history-window.js';
export type { RedisClientLike } from './redis-client.js';
export { toNumber } from './to-number.js';
export { MESSAGE_OVERHEAD_TOKENS } from './tokens.js';
export { truncateText, truncationMarker } from './truncate.js';
