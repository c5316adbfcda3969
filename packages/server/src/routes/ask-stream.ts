import { type AgentrixEventMap, randomId, serializeError } from '@agentrix/core';
import type { Agentrix } from '@agentrix/runtime';

const encoder = new TextEncoder();
const frame = (name: string, data: unknown) => encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * `ask` as an SSE stream: the turn's tokens and tool calls as they happen, then the reply (or the
 * error). The request is tagged with a fresh correlation id; `message.received` names the message
 * it became, `turn.started` the turns that run it, whose `model.token` and `tool.*` events are
 * forwarded. Listeners are removed when the answer is in or the client goes away.
 */
export function askStream(
  agentrix: Agentrix,
  agentId: string,
  content: string,
  options: { threadId?: string; timeoutMs?: number; signal: AbortSignal; secrets: readonly string[] },
): ReadableStream<Uint8Array> {
  const correlationId = `ask-${randomId()}`;
  const events = agentrix.events;
  let messageId: string | undefined;
  const turns = new Set<string>();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;

  const onReceived = ({ envelope }: AgentrixEventMap['message.received']) => {
    if (envelope.correlationId === correlationId) messageId = envelope.id;
  };
  const onTurn = ({ turnId, messageId: id }: AgentrixEventMap['turn.started']) => {
    if (id === messageId) turns.add(turnId);
  };
  const onToken = ({ turnId, step, text }: AgentrixEventMap['model.token']) => {
    if (turns.has(turnId)) send('token', { text, step, turnId });
  };
  const onToolCalled = ({ turnId, toolCall }: AgentrixEventMap['tool.called']) => {
    if (turns.has(turnId)) send('tool.called', { toolCall, turnId });
  };
  const onToolCompleted = (event: AgentrixEventMap['tool.completed']) => {
    if (turns.has(event.turnId)) {
      const { agentId: _agent, ...rest } = event;
      send('tool.completed', rest);
    }
  };
  const detach = () => {
    events.off('message.received', onReceived);
    events.off('turn.started', onTurn);
    events.off('model.token', onToken);
    events.off('tool.called', onToolCalled);
    events.off('tool.completed', onToolCompleted);
  };
  const send = (name: string, data: unknown) => {
    if (!done) controller.enqueue(frame(name, data));
  };
  const finish = (name: string, data: unknown) => {
    if (done) return;
    send(name, data);
    done = true;
    detach();
    controller.close();
  };

  return new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      events.on('message.received', onReceived);
      events.on('turn.started', onTurn);
      events.on('model.token', onToken);
      events.on('tool.called', onToolCalled);
      events.on('tool.completed', onToolCompleted);
      agentrix
        .ask(agentId, content, {
          correlationId,
          signal: options.signal,
          ...(options.threadId !== undefined ? { threadId: options.threadId } : {}),
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        })
        .then(
          (reply) => finish('reply', { reply }),
          (error: unknown) => {
            const { code, message } = serializeError(error, { secrets: options.secrets });
            finish('error', { error: { code: code ?? 'INTERNAL', message } });
          },
        );
    },
    cancel() {
      done = true;
      detach();
    },
  });
}
