import { serializeError, toAgentrixError, type Usage } from '@agentrix/core';
import { chargedUsage, type GatewayCall, type GatewayContext, type Layer } from './call.js';
import { type LedgerRecord, utcDay } from './ledger.js';
import { costNano, nanoToUsd } from './price-table.js';

/**
 * The outermost layer: one ledger record (and one `ledger.recorded` event) per call, whatever
 * its end — an answer, a cache hit, a refusal, an error, or a stream the caller abandoned. (An
 * attempt that reached the provider and was retried gets a record of its own from the retry layer.)
 */
export function meteringLayer(context: GatewayContext): Layer {
  return async function* metering(call, next) {
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
}

/** The ledger record of a call (or of one attempt, under its own `id`) that used `usage`. */
export function ledgerRecord(
  context: GatewayContext,
  call: GatewayCall,
  usage: Usage,
  failure: unknown,
  id: string,
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
    costUsd: nanoToUsd(costNano(call.info, usage)),
    latencyMs: context.clock.now() - call.startedAt,
    stream: call.stream,
    cacheHit: call.cacheHit,
  };
  const { scope } = call;
  if (scope.agentId !== undefined) record.agentId = scope.agentId;
  if (scope.userId !== undefined) record.userId = scope.userId;
  if (scope.workflowId !== undefined) record.workflowId = scope.workflowId;
  if (scope.tags !== undefined && scope.tags.length > 0) record.tags = [...scope.tags];
  if (call.tier !== undefined) record.tier = call.tier;
  if (call.degradedFrom !== undefined) record.degradedFrom = call.degradedFrom;
  if (call.degradation !== undefined) record.degradation = call.degradation;
  if (failure !== undefined) {
    const error = toAgentrixError(failure);
    record.error = { code: error.code, message: error.message };
  } else if (!call.response) {
    record.error = { code: 'ABORTED', message: 'The caller stopped reading the stream before it finished' };
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
