import type { MessageBus } from '@agentrix/core';
import { afterEach, describe } from 'vitest';
import { blockingReadsContract } from './contract/blocking-reads.js';
import { closeContract } from './contract/close.js';
import { deDuplicationContract } from './contract/de-duplication.js';
import { deadLettersContract } from './contract/dead-letters.js';
import { groupsContract } from './contract/groups.js';
import { invalidInputContract } from './contract/invalid-input.js';
import { leasesContract } from './contract/leases.js';
import { sendReadAckContract } from './contract/send-read-ack.js';
import type { CleanupMessageBus, CreateMessageBus, MessageBusContractOptions } from './contract/support.js';

export type { CleanupMessageBus, CreateMessageBus, MessageBusContractOptions } from './contract/support.js';

/**
 * Registers the behaviour every {@link MessageBus} must have, as one vitest `describe` block.
 * Run it once per implementation:
 *
 * ```ts
 * messageBusContract('InMemoryBus', (options) => new InMemoryBus(options));
 * ```
 *
 * Lease tests use real time with leases of 50-100 ms, so they hold for buses whose leases are
 * kept by a server (Redis) as well.
 */
export function messageBusContract(name: string, createBus: CreateMessageBus, cleanup?: CleanupMessageBus): void {
  describe(`MessageBus contract: ${name}`, () => {
    const opened: MessageBus[] = [];

    async function openBus(options: MessageBusContractOptions = {}): Promise<MessageBus> {
      const bus = await createBus(options);
      opened.push(bus);
      return bus;
    }

    afterEach(async () => {
      for (const bus of opened.splice(0)) {
        if (cleanup) await cleanup(bus);
        else await bus.close();
      }
    });

    sendReadAckContract(openBus);
    blockingReadsContract(openBus);
    leasesContract(openBus);
    deadLettersContract(openBus);
    deDuplicationContract(openBus);
    groupsContract(openBus);
    invalidInputContract(openBus);
    closeContract(openBus);
  });
}
