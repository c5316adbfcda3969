import { PassThrough } from 'node:stream';
import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';

// Issue 12, item 8: a pino logger fits the Logger port as it is, and its lines carry the fields.
function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('logs through a real pino logger', () => {
  it('logs retries, failed turns, redeliveries and lifecycle with structured fields, redacted', async () => {
    const { logger, lines } = capture();
    const secret = 'planted-secret-7781';
    const model = new MockLLM({
      script: [
        { error: new AgentrixError('MODEL_ERROR', `upstream said ${secret} at https://u:pw-5531@llm.example/v1`) },
        { error: new AgentrixError('MODEL_ERROR', 'still down') },
        { text: 'ok' },
      ],
    });
    const bus = new InMemoryBus();
    await using agentrix = await createAgentrix({ model, bus, logger, secrets: [secret] });
    await agentrix.create({ id: 'a1', modelRetry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    await agentrix.send({ to: 'a1', content: 'hi', replyTo: 'outside' });
    await bus.read('outside', { blockMs: 5_000 });
    await agentrix.waitForIdle();
    agentrix.pause('a1');
    await agentrix.close();
    await bus.close();

    const find = (msg: string) => lines.find((line) => line.msg === msg);
    expect(find('model call failed; retrying')).toMatchObject({
      level: 40,
      agentId: 'a1',
      attempt: 1,
      delayMs: expect.any(Number),
      code: 'MODEL_ERROR',
    });
    expect(find('turn failed; message given back for redelivery')).toMatchObject({
      level: 40,
      agentId: 'a1',
      messageId: expect.any(String),
      attempt: 1,
      code: 'MODEL_ERROR',
    });
    expect(find('message redelivered')).toMatchObject({ level: 30, agentId: 'a1', attempt: 2, code: 'MODEL_ERROR' });
    expect(find('agent paused')).toMatchObject({ level: 30, agentId: 'a1', pause: 'host' });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('pw-5531');
  });
});
