import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError, type ChatRequest, type ToolMessage } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { manager } from './fixtures/managers.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';

/** Two "processes": managers that share a bus and a registry, each hosting its own agents. */
function twoHosts(models: { here?: MockLLM; there: MockLLM }, maxDeliveries = 5) {
  const bus = new InMemoryBus({ maxDeliveries });
  const registry = new InMemoryAgentRegistry();
  const contextStore = new InMemoryContextStore();
  const shared = { bus, registry, contextStore };
  const here = manager({ ...shared, ...(models.here ? { model: models.here } : {}), consumer: 'here' });
  const there = manager({ ...shared, model: models.there, consumer: 'there' });
  return { bus, here, there };
}

const lastToolResult = (request: ChatRequest) => {
  const message = request.messages.at(-1);
  return message?.role === 'tool' ? (message as ToolMessage) : undefined;
};

describe('request/reply over the bus', () => {
  it('bad ask input and a closed manager reject the returned promise, never throw at the call', async () => {
    const host = manager({ model: new MockLLM({ fallback: { text: 'ok' } }) });
    await host.create({ id: 'a' });
    const badTimeout = host.ask('a', 'hi', { timeoutMs: -1 });
    await expect(badTimeout).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const missing = host.ask('nobody', 'hi');
    await expect(missing).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
    host.pause('a');
    await expect(host.ask('a', 'hi')).rejects.toMatchObject({ code: 'AGENT_PAUSED' });
    await host.close();
    const closed = host.ask('a', 'hi');
    await expect(closed).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('asks an agent hosted by another manager and gets its answer', async () => {
    const { here, there } = twoHosts({ there: new MockLLM({ fallback: { text: 'from over there' } }) });
    await there.create({ id: 'remote' });
    expect(here.has('remote')).toBe(false);
    expect((await here.ask('remote', 'hello?', { timeoutMs: 5_000 })).content).toBe('from over there');
  });

  it('hands the reply to an ask of the same manager in process, and one of another manager over the bus', async () => {
    const { bus, here, there } = twoHosts({
      here: new MockLLM({ fallback: { text: 'from here' } }),
      there: new MockLLM({ fallback: { text: 'from there' } }),
    });
    await here.create({ id: 'local' });
    const throughBus: string[] = [];
    // Asks go out through sendNow, replies of a bus's own through send: both watched.
    const [send, sendNow] = [bus.send.bind(bus), bus.sendNow.bind(bus)];
    bus.send = (input) => {
      throughBus.push(`${input.type ?? 'message'} to ${input.to}`);
      return send(input);
    };
    bus.sendNow = (input) => {
      throughBus.push(`${input.type ?? 'message'} to ${input.to}`);
      return sendNow(input);
    };
    const announced: string[] = [];
    here.on('message.sent', ({ envelope }) => announced.push(`${envelope.type} to ${envelope.to}`));
    const reply = await here.ask('local', 'hi', { timeoutMs: 5_000 });
    expect(reply).toMatchObject({ type: 'reply', from: 'local', to: 'host:here', content: 'from here' });
    expect(reply.id).toBe(`${reply.inReplyTo}:reply`);
    // Announced like any message, but it never went through the bus.
    expect(throughBus).toEqual(['message to local']);
    expect(announced).toEqual(['reply to host:here']);
    // Another manager's ask of the same agent is answered through the bus.
    expect((await there.ask('local', 'hi from there', { timeoutMs: 5_000 })).content).toBe('from here');
    expect(throughBus.slice(1)).toEqual(['message to local', 'reply to host:there']);
    await Promise.all([here.close(), there.close()]);
  });

  it("gets a remote agent's final failure at once as a typed error (an error reply)", async () => {
    const { here, there } = twoHosts(
      { there: new MockLLM({ fallback: { error: new AgentrixError('PROVIDER_BAD_REQUEST', 'bad request') } }) },
      1,
    );
    await there.create({ id: 'remote', modelRetry: { attempts: 1 } });
    const started = Date.now();
    await expect(here.ask('remote', 'fail please', { timeoutMs: 20_000 })).rejects.toMatchObject({
      code: 'PROVIDER_BAD_REQUEST',
      message: expect.stringMatching(/remote.*bad request/),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses at once a remote agent that is paused, failed or missing', async () => {
    const { here, there } = twoHosts({ there: new MockLLM({ fallback: { text: 'x' } }) });
    await there.create({ id: 'sleepy' });
    there.pause('sleepy');
    // The pause reaches the shared registry, where the other manager reads it.
    await expect.poll(async () => (await there.registry.load('sleepy'))?.state).toBe('paused');
    await expect(here.ask('sleepy', 'hi')).rejects.toMatchObject({ code: 'AGENT_PAUSED' });
    await expect(here.ask('nobody', 'hi')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
    await expect(here.send({ to: 'nobody', content: 'hi' })).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
  });

  it('send_message reaches an agent hosted by another manager, and its reply comes back', async () => {
    const sender = new MockLLM({
      script: [
        { toolCalls: [{ name: 'send_message', arguments: { to: 'remote', content: 'question from a1' } }] },
        { text: 'asked' },
      ],
      fallback: (request) => ({ text: `got: ${request.messages.at(-1)?.content}` }),
    });
    const { bus, here, there } = twoHosts({
      here: sender,
      there: new MockLLM({ fallback: { text: 'remote answer' } }),
    });
    await there.create({ id: 'remote' });
    await here.create({ id: 'a1', tools: ['send_message'] });
    await here.send({ to: 'a1', content: 'start' });
    // The reply comes back to a1 as a new message (its own turn).
    await expect
      .poll(() => sender.requests.some((request) => request.messages.at(-1)?.content === 'remote answer'), {
        timeout: 5_000,
      })
      .toBe(true);
    await here.waitForIdle();
    expect((await bus.stats('remote')).deadLetters).toBe(0);
  });

  it('a turn that runs again (its first commit failed) sends its reply once', async () => {
    const bus = new InMemoryBus();
    const contexts = new InMemoryContextStore();
    let saves = 0;
    const flaky = {
      load: contexts.load.bind(contexts),
      delete: contexts.delete.bind(contexts),
      threads: contexts.threads.bind(contexts),
      save: async (context: Parameters<InMemoryContextStore['save']>[0]) => {
        if (saves++ === 0) throw new AgentrixError('STORE_UNAVAILABLE', 'down for a moment');
        return contexts.save(context);
      },
    };
    const agentrix = manager({
      bus,
      contextStore: flaky,
      model: new MockLLM({ fallback: { text: 'the answer' } }),
      outageRetry: { baseDelayMs: 5, maxDelayMs: 5 },
    });
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'q', replyTo: 'outside' });
    await expect.poll(() => agentrix.get('a1').turns, { timeout: 5_000 }).toBe(1);
    await agentrix.waitForIdle();
    // The turn ran twice (the first save failed after the reply was sent); one reply arrived.
    expect(saves).toBe(2);
    const replies = await bus.read('outside', { max: 10, blockMs: 0 });
    expect(replies.map((delivery) => delivery.envelope.content)).toEqual(['the answer']);
  });
});

describe('agents as tools (ask_agent)', () => {
  it('hands a sub-task to another agent and uses its answer, under the parent budget scope', async () => {
    const planner = new MockLLM({
      fallback: (request) => {
        const result = lastToolResult(request);
        return result
          ? { text: `plan uses: ${result.content}` }
          : { toolCalls: [{ name: 'ask_agent', arguments: { agent: 'worker', task: 'compute 6*7' } }] };
      },
    });
    const worker = new MockLLM({ fallback: { text: '42' } });
    const agentrix = manager({ models: { default: planner, worker } });
    await agentrix.create({ id: 'planner', tools: ['ask_agent'], scope: { userId: 'u-7', workflowId: 'wf-1' } });
    await agentrix.create({ id: 'worker', model: 'worker' });
    const reply = await agentrix.ask('planner', 'plan it', { timeoutMs: 5_000 });
    expect(reply.content).toBe('plan uses: {"agent":"worker","answer":"42"}');
    // The worker's call was charged to the planner's user and workflow, and to the worker.
    expect(worker.lastRequest?.scope).toMatchObject({ agentId: 'worker', userId: 'u-7', workflowId: 'wf-1' });
  });

  it('refuses a delegation cycle, an unknown or paused agent, and a delegate that takes too long: as tool errors', async () => {
    const errors: string[] = [];
    const delegating = (target: string, timeoutMs?: number) =>
      new MockLLM({
        fallback: (request) => {
          const result = lastToolResult(request);
          if (result) {
            errors.push(result.content);
            return { text: 'gave up' };
          }
          return {
            toolCalls: [
              { name: 'ask_agent', arguments: { agent: target, task: 'help', ...(timeoutMs ? { timeoutMs } : {}) } },
            ],
          };
        },
      });
    const agentrix = manager({
      models: {
        a: delegating('b'),
        b: delegating('a'),
        ghost: delegating('nobody'),
        napper: delegating('sleepy'),
        impatient: delegating('slow', 50),
        slow: new MockLLM({ fallback: { text: 'late', delayMs: 2_000 } }),
        plain: new MockLLM({ fallback: { text: 'x' } }),
      },
    });
    for (const [id, model] of [
      ['a', 'a'],
      ['b', 'b'],
      ['ghost', 'ghost'],
      ['napper', 'napper'],
      ['impatient', 'impatient'],
    ]) {
      await agentrix.create({ id: id!, model: model!, tools: ['ask_agent'] });
    }
    await agentrix.create({ id: 'slow', model: 'slow' });
    await agentrix.create({ id: 'sleepy', model: 'plain' });
    agentrix.pause('sleepy');

    expect((await agentrix.ask('a', 'go', { timeoutMs: 5_000 })).content).toBe('gave up');
    // b's attempt to ask a back was refused; then b answered a.
    expect(errors.splice(0)).toEqual([
      expect.stringMatching(/DELEGATION_CYCLE.*a -> b -> a/),
      '{"agent":"b","answer":"gave up"}',
    ]);
    await agentrix.ask('ghost', 'go', { timeoutMs: 5_000 });
    expect(errors.shift()).toMatch(/AGENT_NOT_FOUND/);
    await agentrix.ask('napper', 'go', { timeoutMs: 5_000 });
    expect(errors.shift()).toMatch(/AGENT_PAUSED/);
    const started = Date.now();
    await agentrix.ask('impatient', 'go', { timeoutMs: 5_000 });
    expect(errors.shift()).toMatch(/TIMEOUT.*slow/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
