import { readFileSync } from 'node:fs';
import * as core from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import * as implement from '@agentrix/core/implement';
import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

/**
 * `@agentrix/core` is the spec every package and every host depends on: everything its main
 * entry exports is a promise. Helpers for implementers of its ports (buses, stores, providers)
 * live on `@agentrix/core/implement`. These lists are pinned so that adding to either entry is a
 * decision made in review (update the list here and the README), never an accident.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Every name (values and types) an entry file exports, from its `export { ... } from` lines. */
function exportedNames(path: string): string[] {
  return [...read(path).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s+from/g)]
    .flatMap((match) => (match[1] as string).split(','))
    .map((name) => name.trim().replace(/^type\s+/, ''))
    .filter((name) => name !== '')
    .sort();
}

const MAIN = [
  'AGENT_STATES',
  'AddressSchema',
  'AgentContext',
  'AgentContextSchema',
  'AgentRegistry',
  'AgentRegistryEntry',
  'AgentSpec',
  'AgentSpecInput',
  'AgentSpecSchema',
  'AgentState',
  'AgentStateSchema',
  'AgentrixError',
  'AgentrixErrorCode',
  'AgentrixErrorCodeExtensions',
  'AgentrixErrorKind',
  'AgentrixErrorOptions',
  'AgentrixEventMap',
  'AgentrixEventName',
  'AgentrixEvents',
  'AssistantMessage',
  'AssistantMessageSchema',
  'BACKGROUND_TIMER',
  'BroadcastInput',
  'BroadcastInputSchema',
  'BudgetCounter',
  'BudgetReservation',
  'BudgetReserveLine',
  'BudgetReserveResult',
  'BudgetSettleLine',
  'BudgetSettleResult',
  'BudgetSettlement',
  'BudgetStore',
  'CONTEXT_VERSION',
  'CallScope',
  'ChatMessage',
  'ChatMessageSchema',
  'ChatModel',
  'ChatRequest',
  'ChatResponse',
  'ChatStreamPart',
  'Clock',
  'ContextStore',
  'DEFAULT_THREAD',
  'DEFAULT_TOOL_TIMEOUT_MS',
  'DeadLetter',
  'DegradationStep',
  'DelegateInput',
  'Delivery',
  'Embedder',
  'EventTap',
  'FinishReason',
  'IdGenerator',
  'IdempotencyClaim',
  'IdempotencyRecord',
  'IdempotencyStore',
  'InboxStats',
  'LedgerQuery',
  'LedgerRecord',
  'LedgerStore',
  'LogLevel',
  'Logger',
  'MessageBus',
  'MessageBusOptions',
  'MessageEnvelope',
  'MessageEnvelopeSchema',
  'NackOptions',
  'REDACTED',
  'REPLY_INBOX_PREFIX',
  'ReadOptions',
  'RedriveOptions',
  'ReleasedReservation',
  'RetryPolicy',
  'RetryPolicySchema',
  'SendInput',
  'SendInputSchema',
  'SerializeErrorOptions',
  'SerializedError',
  'SystemMessage',
  'SystemMessageSchema',
  'TRACEPARENT',
  'ThreadIdSchema',
  'ThreadInfo',
  'TimerHandle',
  'TimerOptions',
  'Tool',
  'ToolCall',
  'ToolCallSchema',
  'ToolChoice',
  'ToolContext',
  'ToolDefinition',
  'ToolMessage',
  'ToolMessageSchema',
  'ToolOptions',
  'TraceCarrier',
  'TraceCarrierSchema',
  'TurnCommit',
  'TurnCommitHook',
  'Usage',
  'UsageSchema',
  'UserMessage',
  'UserMessageSchema',
  'abortError',
  'addUsage',
  'backoffDelay',
  'createConsoleLogger',
  'createSequentialIds',
  'defineTool',
  'emptyUsage',
  'formatIssues',
  'isReplyInbox',
  'parseWith',
  'randomId',
  'redactError',
  'redactText',
  'redactUrl',
  'redactValue',
  'redactingLogger',
  'serializeError',
  'silentLogger',
  'sleep',
  'systemClock',
  'throwIfAborted',
  'toAgentrixError',
];

const IMPLEMENT = [
  'AbortWatcher',
  'BlockedRead',
  'CheckedSend',
  'DEFAULT_DEAD_LETTER_LIMIT',
  'ForwardingBus',
  'HistoryLimits',
  'HistoryWindow',
  'MESSAGE_OVERHEAD_TOKENS',
  'RedisClientLike',
  'ResolvedReadOptions',
  'armBlockedRead',
  'busClosed',
  'checkMessageSize',
  'checkSendInput',
  'clearBlockedReadTimer',
  'completeEnvelope',
  'groupNotFound',
  'historyWindow',
  'invalidArgument',
  'invalidMessage',
  'messageBusOptionFields',
  'messageIds',
  'parseBroadcastInput',
  'positiveLimit',
  'quote',
  'resolveReadOptions',
  'settleBlockedRead',
  'toNumber',
  'truncateText',
  'truncationMarker',
  'untilAborted',
  'unwatchAbort',
  'utf8Length',
  'validateAddress',
  'watchAbort',
];

describe('@agentrix/core entry points', () => {
  it('the main entry exports exactly the pinned spec (schemas, ports, errors, events, clock, ids)', () => {
    expect(exportedNames('packages/core/src/index.ts')).toEqual([...MAIN].sort());
  });

  it('/implement exports exactly the pinned helpers for implementers', () => {
    expect(exportedNames('packages/core/src/implement.ts')).toEqual([...IMPLEMENT].sort());
  });

  it('no value is on both entries: an implementer helper is never part of the spec', () => {
    const both = Object.keys(implement).filter((name) => name in core);
    expect(both).toEqual([]);
  });

  it('both entries resolve through the package exports, and every pinned value is there', () => {
    // Types are erased: what loads at run time is the pinned list's values.
    for (const name of Object.keys(core)) expect(MAIN, `main exports ${name}`).toContain(name);
    for (const name of Object.keys(implement)) expect(IMPLEMENT, `/implement exports ${name}`).toContain(name);
    expect(typeof implement.checkSendInput).toBe('function');
    expect(typeof core.AgentrixError).toBe('function');
  });

  it('publishes /implement the way it publishes the main entry (source, ESM, CJS, types, build)', () => {
    const manifest = JSON.parse(read('packages/core/package.json'));
    const shape = (entry: string) => ({
      'agentrix-source': `./src/${entry}.ts`,
      import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
      require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
    });
    expect(manifest.exports['.']).toEqual(shape('index'));
    expect(manifest.exports['./implement']).toEqual(shape('implement'));
    const { 'agentrix-source': _, ...published } = shape('implement');
    expect(manifest.publishConfig.exports['./implement']).toEqual(published);
    expect(manifest.scripts.build).toContain('src/implement.ts');
  });

  it('RedisClientLike is what an ioredis Redis and Cluster are (one client for the bus and the gateway)', () => {
    // A compile-time check: `pnpm test` type-checks this file before running it.
    const clients = (redis: Redis, cluster: Cluster): RedisClientLike[] => [redis, cluster];
    expect(clients).toBeTypeOf('function');
  });
});
