import { BACKGROUND_TIMER, type Clock, type MessageBus, type TimerHandle } from '@agentrix/core';

/**
 * Extends a delivery's lease every third of the bus's lease time, from when it was read until
 * its turn ends, so a long turn (or a wait behind its thread's running turn) is not handed to
 * another reader.
 */
export class LeaseHeartbeat {
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly clock: Clock,
    private readonly inbox: string,
    private readonly deliveryId: string,
    private readonly consumer: string,
    leasedAt: number,
    private readonly onError: (error: unknown) => void,
  ) {
    // The first beat is due a third of a lease after the read (at once for a delivery held through
    // a pause: its lease is old), so a short turn costs no extra bus call.
    this.#schedule(leasedAt + this.#interval() - clock.now());
  }

  #interval(): number {
    return Math.max(1, this.bus.leaseMs / 3);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (delayMs <= 0) void this.#beat();
    // A background timer: a heartbeat keeps no process alive (the turn it serves does).
    else this.#timer = this.clock.setTimeout(() => void this.#beat(), delayMs, BACKGROUND_TIMER);
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.bus.extendLease(this.inbox, [this.deliveryId], { consumer: this.consumer });
    } catch (error) {
      this.onError(error);
    }
    this.#schedule(this.#interval());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
  }
}
