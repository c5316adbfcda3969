import { describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from './sse.js';

/** A body that delivers `pieces` as separate chunks, as a network would. */
function body(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

async function read(pieces: string[]): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(body(pieces))) messages.push(message);
  return messages;
}

describe('readSse', () => {
  it('reads the server stream: retry, ids, event names, JSON data, comments skipped', async () => {
    const stream = [
      'retry: 1000\n\n',
      ': ping\n\n',
      'id: 1\nevent: agent.state\ndata: {"agentId":"a1","to":"running"}\n\n',
      'id: 2\nevent: model.token\ndata: {"text":"Hi"}\n\n',
    ].join('');
    expect(await read([stream])).toEqual([
      { id: undefined, event: 'message', data: '', retry: 1000 },
      { id: '1', event: 'agent.state', data: '{"agentId":"a1","to":"running"}', retry: undefined },
      { id: '2', event: 'model.token', data: '{"text":"Hi"}', retry: undefined },
    ]);
  });

  it('joins messages split anywhere across chunks, CRLF and CR line ends included', async () => {
    const text = 'id: 7\r\nevent: token\r\ndata: {"text":"a"}\r\n\r\nid: 8\revent: token\rdata: {"text":"b"}\r\r';
    const expected = [
      { id: '7', event: 'token', data: '{"text":"a"}', retry: undefined },
      { id: '8', event: 'token', data: '{"text":"b"}', retry: undefined },
    ];
    for (let cut = 1; cut < text.length; cut++) {
      expect(await read([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
    expect(await read([...text])).toEqual(expected);
  });

  it('joins data lines with newlines, takes fields without a space, drops an unfinished last message', async () => {
    expect(await read(['data: line 1\ndata:line 2\nevent:x\n\n', 'data: cut off'])).toEqual([
      { id: undefined, event: 'x', data: 'line 1\nline 2', retry: undefined },
    ]);
  });

  it('ignores a malformed retry and unknown fields', async () => {
    expect(await read(['retry: soon\nfoo: bar\ndata: ok\n\n'])).toEqual([
      { id: undefined, event: 'message', data: 'ok', retry: undefined },
    ]);
  });
});
