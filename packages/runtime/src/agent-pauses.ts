/**
 * The pauses of one agent: why it is paused, what it does once its running turns end (the host's
 * pause, an outage or spent-budget pause, an error state; a stronger decision wins), the outage and
 * budget streaks, and the timer that ends an outage or budget pause by itself.
 */
import {
  type AgentrixError,
  BACKGROUND_TIMER,
  backoffDelay,
  type SerializedError,
  type TimerHandle,
} from '@agentrix/core';
import type { AgentRuntimeDependencies } from './agent-runtime-dependencies.js';
import { type PauseReason, recordedPause } from './turn-failure.js';

/**
 * Where the agent goes once its running turns end, when something decided it while they ran:
 * the host paused it, a turn hit an outage or a spent budget, or an error every message would hit.
 */
export type AfterTurns =
  | { kind: 'host' }
  | { kind: 'outage' | 'budget'; error: AgentrixError; delayMs: number }
  | { kind: 'error'; error: AgentrixError };

const PRECEDENCE: Record<AfterTurns['kind'], number> = { outage: 1, budget: 1, host: 2, error: 3 };

export class AgentPauses {
  /** Why the agent is paused (meaningful while it is). */
  reason: PauseReason | undefined;
  /** What the agent does once its running turns end, decided while they ran. */
  after: AfterTurns | undefined;
  /** Consecutive failures to reach the bus or the store. */
  outages = 0;
  /** Consecutive budget refusals (the first is logged as a warning, the rest at debug). */
  budgetRefusals = 0;
  #timer: TimerHandle | undefined;
  readonly #deps: AgentRuntimeDependencies;
  /** Called when a pause of `kind` is due to end (the runtime checks that it still applies). */
  readonly #due: (kind: PauseReason['kind']) => void;

  constructor(deps: AgentRuntimeDependencies, due: (kind: PauseReason['kind']) => void) {
    this.#deps = deps;
    this.#due = due;
  }

  /**
   * The pause of an agent restored from a registry: an outage pause ends at once, a budget pause
   * at its next try; anything else was the host's pause.
   */
  restore(lastError: SerializedError | undefined): void {
    const pause = recordedPause(lastError);
    if (pause.kind === 'host') this.reason = pause;
    else this.endIn(pause, pause.kind === 'budget' ? this.budgetDelay(pause.error) : 0);
  }

  /** Records what the agent does once its running turns end; a stronger decision wins. */
  decide(next: AfterTurns): void {
    if (this.after === undefined || PRECEDENCE[next.kind] > PRECEDENCE[this.after.kind]) this.after = next;
  }

  /** One more outage in a row: the backoff before the next try. */
  outageDelay(): number {
    this.outages++;
    return backoffDelay(this.outages, this.#deps.outageRetry);
  }

  /** Delay before a budget-paused agent tries again: `budgetRetryMs`, or sooner when the period resets. */
  budgetDelay(error: SerializedError | undefined): number {
    const resetsAt = error?.details?.resetsAt;
    const untilReset = typeof resetsAt === 'number' ? resetsAt - this.#deps.clock.now() : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(this.#deps.budgetRetryMs, untilReset));
  }

  /** Pauses for `pause`, which ends by itself in `delayMs`. */
  endIn(pause: PauseReason, delayMs: number): void {
    const { clock } = this.#deps;
    this.reason = { ...pause, resumesAt: clock.now() + delayMs };
    this.cancel();
    // A background timer: a paused agent keeps no process alive.
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#due(pause.kind);
      },
      delayMs,
      BACKGROUND_TIMER,
    );
  }

  /** Cancels the end of an outage or budget pause (the host paused, resumed or stopped the agent). */
  cancel(): void {
    if (this.#timer === undefined) return;
    this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
