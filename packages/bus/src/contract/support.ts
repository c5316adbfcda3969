// Helpers of the MessageBus contract suite (message-bus.contract.ts) and its sections.
import { randomUUID } from 'node:crypto';
import { AgentrixError, type Clock, type Delivery, type MessageBus } from '@agentrix/core';
import { expect } from 'vitest';

/** The knobs every bus must take so the contract can exercise leases, dead letters and limits. */
export interface MessageBusContractOptions {
  clock?: Clock;
  leaseMs?: number;
  maxDeliveries?: number;
  maxMessageBytes?: number;
}

export type CreateMessageBus = (options: MessageBusContractOptions) => Promise<MessageBus> | MessageBus;
/** Opens a bus for one test (closed after it). */
export type OpenBus = (options?: MessageBusContractOptions) => Promise<MessageBus>;
/** Releases a bus after a test (default: `bus.close()`); it may be called on a closed bus. */
export type CleanupMessageBus = (bus: MessageBus) => Promise<void> | void;

/** A fresh prefix per test, so tests never share inboxes or groups (even on a shared Redis). */
export function namespace(): string {
  return `test-${randomUUID()}`;
}

export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Awaits a promise that must reject with an AgentrixError of `code`, and returns the error. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<AgentrixError> {
  const outcome = await promise.then(
    (value) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected a rejection with ${code}, got ${JSON.stringify(outcome.value)}`);
  expect(AgentrixError.isInstance(outcome.error), `expected an AgentrixError, got ${String(outcome.error)}`).toBe(true);
  expect((outcome.error as AgentrixError).code).toBe(code);
  return outcome.error as AgentrixError;
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

export function contents(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.envelope.content);
}

export function deliveryIds(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.deliveryId);
}
