import {
  AgentrixError,
  AgentrixEvents,
  abortError,
  type Clock,
  type IdGenerator,
  type Logger,
  randomId,
  redactText,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@agentrix/core';

/** A call waiting for the host's decision. */
export interface ApprovalRequest {
  id: string;
  agentId: string;
  turnId: string;
  toolCallId: string;
  skill: string;
  /** The validated input the skill will get when approved (the executor hands in a redacted copy). */
  input: unknown;
  /** Epoch milliseconds. */
  requestedAt: number;
  expiresAt: number;
}

export type ApprovalDecision =
  | { approved: true; by?: string }
  | { approved: false; reason: string; outcome: 'rejected' | 'timed-out'; by?: string };

export interface ApprovalGateOptions {
  /** How long a request waits before it counts as rejected. Default 5 min. */
  timeoutMs?: number;
  clock?: Clock;
  generateId?: IdGenerator;
  /** Where `approval.requested` / `approval.resolved` go. Default: a new `AgentrixEvents`, as `gate.events`. */
  events?: AgentrixEvents;
  /** Requests and decisions (info: approvalId, agentId, turnId, toolCallId, toolName, outcome). Default: silent. */
  logger?: Logger;
  /** Exact secrets removed from decision reasons (events, logs, the decision). URL credentials and keys always are. */
  secrets?: readonly (string | undefined)[];
}

export interface ApprovalRequestInput {
  agentId: string;
  turnId: string;
  toolCallId: string;
  skill: string;
  input: unknown;
}

interface Pending {
  request: ApprovalRequest;
  resolve(decision: ApprovalDecision): void;
  reject(error: unknown): void;
  timer: TimerHandle;
  cleanup(): void;
}

/**
 * Human-in-the-loop for `requiresApproval` skills: the executor calls {@link request} and waits;
 * the host lists {@link pending} requests and calls {@link approve} or {@link reject}. A request
 * nobody answers within the timeout is rejected (outcome `timed-out`); an aborted turn cancels it.
 */
export class ApprovalGate {
  readonly events: AgentrixEvents;
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #logger: Logger;
  readonly #secrets: readonly (string | undefined)[] | undefined;
  #closed = false;

  constructor(options: ApprovalGateOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 300_000;
    this.#clock = options.clock ?? systemClock;
    this.#generateId = options.generateId ?? randomId;
    this.events = options.events ?? new AgentrixEvents();
    this.#logger = options.logger ?? silentLogger;
    this.#secrets = options.secrets;
  }

  /** Waits for the decision. Rejects with ABORTED when `signal` fires, CLOSED when the gate closes. */
  request(
    input: ApprovalRequestInput,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ApprovalDecision> {
    if (this.#closed) return Promise.reject(new AgentrixError('CLOSED', 'The approval gate is closed'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'approval wait'));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const now = this.#clock.now();
    const request: ApprovalRequest = {
      id: this.#generateId(),
      ...input,
      requestedAt: now,
      expiresAt: now + timeoutMs,
    };
    return new Promise<ApprovalDecision>((resolve, reject) => {
      const onAbort = () => {
        this.#settle(request.id, 'cancelled');
        reject(abortError(signal as AbortSignal, 'approval wait'));
      };
      const timer = this.#clock.setTimeout(() => {
        const reason = `No decision within ${timeoutMs} ms`;
        if (this.#settle(request.id, 'timed-out', reason)) {
          resolve({ approved: false, reason, outcome: 'timed-out' });
        }
      }, timeoutMs);
      this.#pending.set(request.id, {
        request,
        resolve,
        reject,
        timer,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#logger.info(
        { ...logFields(request), expiresAt: request.expiresAt },
        `approval requested for tool "${request.skill}"`,
      );
      this.events.emit('approval.requested', { request });
    });
  }

  /** Lets the call run. Throws INVALID_ARGUMENT for an unknown (or already decided) id. */
  approve(id: string, options: { by?: string } = {}): void {
    const pending = this.#take(id);
    this.#settle(id, 'approved', undefined, options.by, pending);
    pending.resolve(options.by !== undefined ? { approved: true, by: options.by } : { approved: true });
  }

  /** Refuses the call: the model gets a tool error with the reason. */
  reject(id: string, reason = 'rejected by the host', options: { by?: string } = {}): void {
    const pending = this.#take(id);
    reason = redactText(reason, this.#secrets);
    this.#settle(id, 'rejected', reason, options.by, pending);
    pending.resolve({
      approved: false,
      reason,
      outcome: 'rejected',
      ...(options.by !== undefined ? { by: options.by } : {}),
    });
  }

  /** Requests waiting for a decision, oldest first (optionally of one agent). */
  pending(agentId?: string): ApprovalRequest[] {
    const out: ApprovalRequest[] = [];
    for (const { request } of this.#pending.values()) {
      if (agentId === undefined || request.agentId === agentId) out.push({ ...request });
    }
    return out;
  }

  get(id: string): ApprovalRequest | undefined {
    const pending = this.#pending.get(id);
    return pending ? { ...pending.request } : undefined;
  }

  /** Rejects every waiting request with CLOSED; later requests fail at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) {
      const pending = this.#pending.get(id)!;
      this.#settle(id, 'cancelled', 'gate closed', undefined, pending);
      pending.reject(new AgentrixError('CLOSED', 'The approval gate closed before a decision'));
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #take(id: string): Pending {
    const pending = this.#pending.get(id);
    if (!pending) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `No pending approval with id "${id}" (it was decided, timed out or never existed). Pending: ${
          [...this.#pending.keys()].join(', ') || 'none'
        }`,
        { details: { id } },
      );
    }
    return pending;
  }

  #settle(
    id: string,
    outcome: 'approved' | 'rejected' | 'timed-out' | 'cancelled',
    reason?: string,
    by?: string,
    pending = this.#pending.get(id),
  ): boolean {
    if (!pending || this.#pending.get(id) !== pending) return false;
    this.#pending.delete(id);
    this.#clock.clearTimeout(pending.timer);
    pending.cleanup();
    this.#logger.info(
      {
        ...logFields(pending.request),
        outcome,
        ...(reason !== undefined ? { reason } : {}),
        ...(by !== undefined ? { by } : {}),
      },
      `approval ${outcome} for tool "${pending.request.skill}"`,
    );
    this.events.emit('approval.resolved', {
      request: pending.request,
      outcome,
      ...(reason !== undefined ? { reason } : {}),
      ...(by !== undefined ? { by } : {}),
    });
    return true;
  }
}

/** Who a request is about, for logs (never its input). */
function logFields(request: ApprovalRequest): Record<string, unknown> {
  return {
    approvalId: request.id,
    agentId: request.agentId,
    turnId: request.turnId,
    toolCallId: request.toolCallId,
    toolName: request.skill,
  };
}
