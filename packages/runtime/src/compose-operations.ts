import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError, type MessageBus } from '@agentrix/core';
import type { AgentrixTelemetry } from '@agentrix/otel';
import type { AgentrixOptions } from './agentrix-options.js';
import type { Shared } from './compose-store-and-bus.js';
import { LifecycleBus } from './lifecycle-bus.js';
import type { OwnedResources } from './owned-resources.js';
import type { ToolExecutor } from './tool-execution.js';

/**
 * The telemetry of `options.telemetry`, attached to the event stream (detached on close), or
 * none. `@agentrix/otel` is loaded only when asked for.
 */
export async function openTelemetry(
  options: AgentrixOptions,
  shared: Shared,
  owned: OwnedResources,
): Promise<AgentrixTelemetry | undefined> {
  const option = options.telemetry;
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `telemetry expects true, telemetry options ({ tracerProvider, meterProvider, recordContent, ... }) or an AgentrixTelemetry, got ${JSON.stringify(option)}`,
    );
  }
  const { AgentrixTelemetry } = await import('@agentrix/otel');
  const telemetry =
    option instanceof AgentrixTelemetry
      ? option
      : new AgentrixTelemetry({
          logger: shared.logger,
          ...(options.secrets ? { secrets: options.secrets } : {}),
          ...(shared.clock ? { now: () => (shared.clock as NonNullable<Shared['clock']>).now() } : {}),
          ...(option === true ? {} : option),
        });
  owned.add('telemetry', telemetry.attach(shared.events));
  return telemetry;
}

/**
 * The bus the manager gets: the chosen bus (an `InMemoryBus` made here when none, closed by
 * `close()`), traced when there is telemetry, inside a {@link LifecycleBus} (drain on shutdown,
 * deliveries released by `Agentrix.close`, a stable consumer's own deliveries reclaimed on its
 * first read).
 */
export function operatedBus(
  bus: MessageBus | undefined,
  telemetry: AgentrixTelemetry | undefined,
  options: AgentrixOptions,
  shared: Shared,
  owned: OwnedResources,
): LifecycleBus {
  let inner = bus;
  if (inner === undefined) {
    const memoryBus = new InMemoryBus({ ...shared, ...(options.consumer ? { consumer: options.consumer } : {}) });
    owned.add('bus', () => memoryBus.close());
    inner = memoryBus;
  }
  if (telemetry) inner = telemetry.traceBus(inner);
  // A consumer name the host chose is taken as stable (`stableConsumerName`): a random one never comes back.
  return new LifecycleBus(inner, { reclaim: options.consumer !== undefined });
}

/**
 * The tool executor the agents get: with telemetry, each step's tool calls run with their turn
 * as the active trace context, so a job a tool adds (or a span the host starts there) continues
 * the turn's trace.
 */
export function tracedToolExecutor(executor: ToolExecutor, telemetry: AgentrixTelemetry | undefined): ToolExecutor {
  if (telemetry === undefined) return executor;
  return {
    executeToolCalls: (calls, tools, context) =>
      telemetry.inTurn(context.agentId, context.threadId, () => executor.executeToolCalls(calls, tools, context)),
  };
}
