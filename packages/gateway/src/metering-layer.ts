import { serializeError, toAgentrixError, type Usage } from '@agentrix/core';
import {
  chargedUsage,
  type EmbeddingLayer,
  type GatewayCall,
  type GatewayContext,
  type GatewayMiddleware,
  type Layer,
  type MeteredCall,
} from './call.js';
import { type LedgerRecord, utcDay } from './ledger.js';
import { costNano, embeddingCostNano, nanoToUsd } from './price-table.js';

/**
 * The outermost middleware: one ledger record (and one `ledger.recorded` event) per call, whatever
 * its end — an answer, a cache hit, a refusal, an error, or a stream the caller abandoned. (An
 * attempt that reached the provider and was retried gets a record of its own from the retry layer.)
 */
export function meteringMiddleware(context: GatewayContext): GatewayMiddleware {
  const chat: Layer = async function* metering(call, next) {
    let failure: unknown;
    try {
      yield* next(call);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      appendLedgerRecord(context, ledgerRecord(context, call, chargedUsage(call), failure, call.id), call.id);
    }
  };
  const embed: EmbeddingLayer = async (call, next) => {
    let failure: unknown;
    try {
      return await next(call);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const { inputTokens, estimated } = call.usage;
      const costUsd = nanoToUsd(embeddingCostNano(call.info, inputTokens));
      const record = meteredRecord(context, call, call.id, { inputTokens, outputTokens: 0, estimated }, costUsd);
      appendLedgerRecord(context, withError(record, failure), call.id);
    }
  };
  return { chat, embed };
}

/** The ledger record of a chat call (or of one attempt, under its own `id`) that used `usage`. */
export function ledgerRecord(
  context: GatewayContext,
  call: GatewayCall,
  usage: Usage,
  failure: unknown,
  id: string,
): LedgerRecord {
  const record = meteredRecord(context, call, id, usage, nanoToUsd(costNano(call.info, usage)));
  record.stream = call.stream;
  record.cacheHit = call.cacheHit;
  if (call.tier !== undefined) record.tier = call.tier;
  if (call.degradedFrom !== undefined) record.degradedFrom = call.degradedFrom;
  if (call.degradation !== undefined) record.degradation = call.degradation;
  if (failure === undefined && !call.response) {
    record.error = { code: 'ABORTED', message: 'The caller stopped reading the stream before it finished' };
    return record;
  }
  return withError(record, failure);
}

/** What every record has: the call's model, usage, cost, latency and scope. */
function meteredRecord(
  context: GatewayContext,
  call: MeteredCall,
  id: string,
  usage: Usage,
  costUsd: number,
): LedgerRecord {
  const record: LedgerRecord = {
    id,
    at: call.startedAt,
    day: utcDay(call.startedAt),
    model: call.model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens ?? 0,
    estimated: usage.estimated === true,
    costUsd,
    latencyMs: context.clock.now() - call.startedAt,
    stream: false,
    cacheHit: false,
  };
  const { scope } = call;
  if (scope.agentId !== undefined) record.agentId = scope.agentId;
  if (scope.userId !== undefined) record.userId = scope.userId;
  if (scope.workflowId !== undefined) record.workflowId = scope.workflowId;
  if (scope.tags !== undefined && scope.tags.length > 0) record.tags = [...scope.tags];
  return record;
}

function withError(record: LedgerRecord, failure: unknown): LedgerRecord {
  if (failure !== undefined) {
    const error = toAgentrixError(failure);
    record.error = { code: error.code, message: error.message };
  }
  return record;
}

/** Appends a record off the call's path (`report()` and `close()` wait for it) and emits `ledger.recorded`. */
export function appendLedgerRecord(context: GatewayContext, record: LedgerRecord, callId: string): void {
  const write = context.ledger.append(record).catch((error: unknown) => {
    context.logger?.error(
      { callId, ledgerId: record.id, error: serializeError(error) },
      'gateway: could not append a ledger record',
    );
  });
  context.pendingLedgerWrites.add(write);
  void write.finally(() => context.pendingLedgerWrites.delete(write));
  if (context.events.has('ledger.recorded')) context.events.emit('ledger.recorded', { record });
}
