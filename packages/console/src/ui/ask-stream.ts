/// <reference lib="dom" />
import { request, segment } from './api.js';
import { readSse } from './sse.js';
import type { Envelope, ToolCall } from './types.js';

/** What the console shows of a turn while it streams. */
export interface StreamedTurn {
  text: string;
  tools: { call: ToolCall; done?: { isError: boolean; durationMs: number } }[];
  reply?: Envelope;
  error?: { code: string; message: string };
}

/**
 * `POST api/agents/:id/ask` with `Accept: text/event-stream`: calls `onUpdate` with the turn so
 * far after every token and tool event, and resolves with the final state (reply or error).
 */
export async function askStreamed(
  agentId: string,
  body: { content: string; threadId: string },
  onUpdate: (turn: StreamedTurn) => void,
  signal?: AbortSignal,
): Promise<StreamedTurn> {
  const options: Parameters<typeof request>[1] = { method: 'POST', body, accept: 'text/event-stream' };
  if (signal) options.signal = signal;
  const response = await request(`api/agents/${segment(agentId)}/ask`, options);
  let turn: StreamedTurn = { text: '', tools: [] };
  if (!response.body) return turn;
  for await (const message of readSse(response.body)) {
    const data = message.data === '' ? {} : JSON.parse(message.data);
    if (message.event === 'token') turn = { ...turn, text: turn.text + data.text };
    else if (message.event === 'tool.called') turn = { ...turn, tools: [...turn.tools, { call: data.toolCall }] };
    else if (message.event === 'tool.completed') {
      turn = {
        ...turn,
        tools: turn.tools.map((tool) =>
          tool.call.id === data.toolCallId
            ? { ...tool, done: { isError: data.isError, durationMs: data.durationMs } }
            : tool,
        ),
      };
    } else if (message.event === 'reply') turn = { ...turn, reply: data.reply };
    else if (message.event === 'error') turn = { ...turn, error: data.error };
    else continue;
    onUpdate(turn);
  }
  return turn;
}
