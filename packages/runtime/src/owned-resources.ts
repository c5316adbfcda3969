import { type Logger, serializeError } from '@agentrix/core';

/**
 * What `createAgentrix` opened, closed in the reverse order of opening: what was built last
 * (the agents) stops first, and the store, which everything else writes to, closes last.
 */
export class OwnedResources {
  readonly #steps: { name: string; close: () => unknown }[] = [];
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(name: string, close: () => unknown): void {
    this.#steps.push({ name, close });
  }

  /** Runs every step even when one fails (each failure logged), then throws the first failure. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      let first: unknown;
      for (const { name, close } of this.#steps.toReversed()) {
        try {
          await close();
        } catch (error) {
          first ??= error;
          this.#logger.error({ resource: name, error: serializeError(error) }, 'close: a resource failed to close');
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.#closing;
  }
}
