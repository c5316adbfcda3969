import type { CallScope, ChatMessage, UserMessage } from './chat.js';

/** A finished turn, about to be committed: its reply is sent, its context not saved, its message not acked. */
export interface TurnCommit {
  agentId: string;
  threadId: string;
  turnId: string;
  /** The id of the message the turn answered (stable across redeliveries: use it to write idempotently). */
  messageId: string;
  /** Whom the turn's calls were charged to (`agentId`, `threadId`, and the spec's or the sender's user / workflow / tags). */
  scope: CallScope;
  /** The message the turn answered, as the model saw it. */
  input: UserMessage;
  /** What the turn added to the conversation: assistant and tool messages, in order. */
  messages: readonly ChatMessage[];
  /** The final text of the turn. */
  reply: string;
  /** Fires when the turn is abandoned (deadline, stop). */
  signal: AbortSignal;
}

/**
 * Runs as part of a turn's commit, after its reply is sent and before its context is saved and
 * its message acked (memory's episode writer is one). A hook that throws fails the turn: the
 * message is redelivered and the turn runs again, so a hook must be idempotent by `messageId`.
 * A crash between the hook and the ack therefore never loses what the hook wrote, nor the ack.
 */
export type TurnCommitHook = (turn: TurnCommit) => void | Promise<void>;
