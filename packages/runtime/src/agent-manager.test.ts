import { InMemoryBus } from '@agentrix/bus';
import {
  AgentrixError,
  type AgentrixEventMap,
  type AgentrixEventName,
  type AgentrixEvents,
  defineTool,
} from '@agentrix/core';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AgentManager } from './agent-manager.js';
import { manager } from './fixtures/managers.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';

function next<K extends AgentrixEventName>(
  events: AgentrixEvents,
  name: K,
  predicate: (event: AgentrixEventMap[K]) => boolean = () => true,
): Promise<AgentrixEventMap[K]> {
  return new Promise((resolve) => {
    const listener = (event: AgentrixEventMap[K]) => {
      if (!predicate(event)) return;
      events.off(name, listener as never);
      resolve(event);
    };
    events.on(name, listener as never);
  });
}

const fastRetry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 };

describe('AgentManager', () => {
  it('creates an agent that answers, and keeps its history between turns', async () => {
    const model = new MockLLM({ script: [{ text: 'hello Ada' }, { text: 'you are Ada' }] });
    const agentrix = manager({ model });
    const info = await agentrix.create({ id: 'a1', instructions: 'You are helpful.' });
    expect(info).toMatchObject({ id: 'a1', name: 'a1', state: 'idle', turns: 0 });
    expect((await agentrix.ask('a1', 'I am Ada')).content).toBe('hello Ada');
    const reply = await agentrix.ask('a1', 'who am I?');
    expect(reply).toMatchObject({ from: 'a1', type: 'reply', content: 'you are Ada' });
    expect(model.lastRequest?.messages.map((message) => message.content)).toEqual([
      'You are helpful.',
      'I am Ada',
      'hello Ada',
      'who am I?',
    ]);
    await agentrix.waitForIdle();
    expect(agentrix.get('a1').turns).toBe(2);
  });

  it('validates every entry point with typed errors', async () => {
    const agentrix = manager({ model: new MockLLM({ fallback: { text: 'ok' } }) });
    await expect(agentrix.create({ id: 'bad id!', maxSteps: 0 })).rejects.toMatchObject({
      code: 'INVALID_AGENT_SPEC',
      message: expect.stringMatching(/id: .*maxSteps: /),
    });
    await expect(agentrix.create({ id: 'x', model: 'gpt-9' })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringMatching(/Registered models: default/),
    });
    await expect(agentrix.create({ id: 'x', tools: ['teleport'] })).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
    await agentrix.create({ id: 'a1' });
    await expect(agentrix.create({ id: 'a1' })).rejects.toMatchObject({ code: 'AGENT_EXISTS' });
    expect(() => agentrix.get('ghost')).toThrow(expect.objectContaining({ code: 'AGENT_NOT_FOUND' }));
    await expect(agentrix.send({ to: 'ghost', content: 'hi' })).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
    await expect(agentrix.send({ to: 'a1', content: 'x'.repeat(2 * 1024 * 1024) })).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
    await agentrix.terminate('a1');
    await expect(agentrix.send({ to: 'a1', content: 'hi' })).rejects.toMatchObject({ code: 'AGENT_TERMINATED' });
    await expect(agentrix.ask('a1', 'hi')).rejects.toMatchObject({ code: 'AGENT_TERMINATED' });
    expect(() => agentrix.resume('a1')).toThrow(expect.objectContaining({ code: 'AGENT_TERMINATED' }));
    await agentrix.create({ id: 'a2' }, { start: false });
    expect(agentrix.get('a2').state).toBe('created');
    expect(() => agentrix.resume('a2')).toThrow(expect.objectContaining({ code: 'ILLEGAL_STATE_TRANSITION' }));
    agentrix.start('a2');
    expect(() => agentrix.start('a2')).toThrow(expect.objectContaining({ code: 'ILLEGAL_STATE_TRANSITION' }));
    expect(() => agentrix.get('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // An unknown key is a mistake to report, not to drop.
    await expect(agentrix.create({ id: 'typo', maxStep: 3 } as never)).rejects.toMatchObject({
      code: 'INVALID_AGENT_SPEC',
      message: expect.stringMatching(/maxStep/),
    });
    await expect(agentrix.create({ id: 'typo', scope: { user: 'u1' } } as never)).rejects.toMatchObject({
      code: 'INVALID_AGENT_SPEC',
    });
    for (const timeoutMs of [-1, 0, Number.NaN]) {
      await expect(agentrix.ask('a2', 'hi', { timeoutMs })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/timeoutMs/),
      });
    }
  });

  it('sends every ask() from `host`, so prompts do not change with each call (and can hit a cache)', async () => {
    const model = new MockLLM({ fallback: { text: 'ok' } });
    const agentrix = manager({ model });
    await agentrix.create({ id: 'a1', maxHistory: 0 });
    await agentrix.ask('a1', 'same question');
    const first = model.lastRequest?.messages;
    await agentrix.ask('a1', 'same question');
    expect(model.lastRequest?.messages).toEqual(first);
    expect(first?.at(-1)).toEqual({ role: 'user', content: 'same question', name: 'host' });
  });

  it('holds messages while paused, refuses ask() at once, and answers them after resume', async () => {
    const clock = new FakeClock();
    const agentrix = manager({
      clock,
      model: new MockLLM({ fallback: (request) => ({ text: `re: ${request.messages.at(-1)?.content}` }) }),
    });
    await agentrix.create({ id: 'a1' });
    await agentrix.create({ id: 'a2' });
    expect(agentrix.pause('a1')).toMatchObject({ state: 'paused', pause: { kind: 'host' } });
    await agentrix.send({ to: 'a1', content: 'are you there?', replyTo: 'outside' });
    await expect(agentrix.ask('a1', 'now?', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'AGENT_PAUSED' });
    // An agent that is not paused answers a message sent after a1's, and an hour passes with every
    // timer fired: a1 still has not taken its message.
    expect((await agentrix.ask('a2', 'ping')).content).toBe('re: ping');
    await clock.advance(3_600_000);
    expect(agentrix.get('a1').turns).toBe(0);
    expect((await agentrix.bus.stats('a1')).unread).toBe(1);
    agentrix.resume('a1');
    const [reply] = await agentrix.bus.read('outside', { blockMs: 5_000 });
    expect(reply?.envelope.content).toBe('re: are you there?');
  });

  it('gives a failed message back for redelivery and stays idle; the redelivery is answered', async () => {
    const model = new MockLLM({
      script: [{ error: new Error('down') }, { error: new Error('down') }, { text: 'recovered' }],
    });
    const agentrix = manager({ model });
    await agentrix.create({ id: 'a1', modelRetry: fastRetry });
    // The asker waits through the redelivery and gets the answer.
    expect((await agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).content).toBe('recovered');
    await agentrix.waitForIdle();
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', turns: 1 });
    expect(await agentrix.bus.stats('a1')).toMatchObject({ unread: 0, inFlight: 0, deadLetters: 0 });
  });

  it('moves a message that keeps failing to dead letter and goes on with the next one', async () => {
    const bus = new InMemoryBus({ maxDeliveries: 2 });
    const model = new MockLLM({
      fallback: (request) =>
        request.messages.at(-1)?.content === 'poison' ? { error: new Error('always fails') } : { text: 'fine' },
    });
    const agentrix = manager({ model, bus });
    await agentrix.create({ id: 'a1', modelRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await agentrix.send({ to: 'a1', content: 'poison' });
    await agentrix.send({ to: 'a1', content: 'next', replyTo: 'outside' });
    const [reply] = await bus.read('outside', { blockMs: 5_000 });
    expect(reply?.envelope.content).toBe('fine');
    await agentrix.waitForIdle();
    const [dead] = await bus.deadLetters('a1');
    expect(dead).toMatchObject({ attempts: 2, envelope: { content: 'poison' }, error: { code: 'MODEL_ERROR' } });
    // The last failure stays visible to the operator after later turns succeed.
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', lastError: { code: 'MODEL_ERROR' } });
    await bus.close();
  });

  it('stops on an error every message would hit (refused credentials): ask() says so at once', async () => {
    const model = new MockLLM({
      script: [{ error: new AgentrixError('AUTH_FAILED', 'provider refused the key') }, { text: 'fixed' }],
    });
    const agentrix = manager({ model });
    await agentrix.create({ id: 'a1', modelRetry: fastRetry });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await agentrix.waitForIdle();
    expect(agentrix.get('a1')).toMatchObject({ state: 'error', lastError: { code: 'AUTH_FAILED' } });
    // The message is kept (given back, or held by the stopped agent), not lost nor dead-lettered.
    const stats = await agentrix.bus.stats('a1');
    expect(stats.unread + stats.inFlight).toBe(1);
    expect(stats.deadLetters).toBe(0);
    await expect(agentrix.ask('a1', 'again?')).rejects.toMatchObject({
      code: 'AGENT_FAILED',
      message: expect.stringMatching(/AUTH_FAILED/),
    });
    const completed = next(agentrix.events, 'turn.completed');
    agentrix.resume('a1');
    expect(await completed).toMatchObject({ reply: 'fixed' });
  });

  it('aborts a turn that runs past its timeout; the message is retried, then dead-lettered; the agent goes on', async () => {
    const bus = new InMemoryBus({ maxDeliveries: 2 });
    const agentrix = manager({ bus, model: new MockLLM({ fallback: { text: 'slow', delayMs: 5_000 } }) });
    await agentrix.create({ id: 'a1', turnTimeoutMs: 30, modelRetry: fastRetry });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
    await agentrix.waitForIdle();
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', lastError: { code: 'TURN_TIMEOUT' } });
    expect(await bus.deadLetters('a1')).toMatchObject([{ attempts: 2, error: { code: 'TURN_TIMEOUT' } }]);
    await bus.close();
  });

  it('terminates children with their parent', async () => {
    const agentrix = manager({ model: new MockLLM({ fallback: { text: 'ok' } }) });
    await agentrix.create({ id: 'root' });
    await agentrix.spawn('root', { id: 'child' });
    await agentrix.spawn('child', { id: 'grandchild' });
    expect(agentrix.get('root').children).toEqual(['child']);
    expect(agentrix.list({ parentId: 'child' }).map((agent) => agent.id)).toEqual(['grandchild']);
    await agentrix.terminate('root');
    expect(agentrix.list().map((agent) => agent.state)).toEqual(['terminated', 'terminated', 'terminated']);
    await expect(agentrix.spawn('root', { id: 'late' })).rejects.toMatchObject({ code: 'AGENT_TERMINATED' });
  });

  it('lets agents message each other with send_message; replies come back as new turns', async () => {
    const planner = new MockLLM({
      script: [
        { toolCalls: [{ name: 'send_message', arguments: { to: 'worker', content: 'compute 6*7' } }] },
        { text: 'asked the worker' },
        { text: 'the worker says 42' },
      ],
    });
    const worker = new MockLLM({ fallback: { text: '42' } });
    const agentrix = manager({ models: { planner, worker } });
    await agentrix.create({ id: 'planner', model: 'planner', tools: ['send_message'] });
    await agentrix.create({ id: 'worker', model: 'worker' });
    await agentrix.send({ to: 'planner', content: 'what is 6*7?' });
    await agentrix.waitForIdle({ timeoutMs: 5_000 });
    expect(worker.lastRequest?.messages.at(-1)).toMatchObject({
      role: 'user',
      content: 'compute 6*7',
      name: 'planner',
    });
    expect(planner.lastRequest?.messages.at(-1)).toMatchObject({ role: 'user', content: '42', name: 'worker' });
    expect(agentrix.get('planner').turns).toBe(2);
    expect(agentrix.get('worker').turns).toBe(1);
  });

  it('a tool sending to an unknown agent gets a tool error, not a lost message', async () => {
    const model = new MockLLM({
      script: [{ toolCalls: [{ name: 'send_message', arguments: { to: 'ghost', content: 'hi' } }] }, { text: 'done' }],
    });
    const agentrix = manager({ model });
    await agentrix.create({ id: 'a1', tools: ['send_message'] });
    await agentrix.ask('a1', 'go');
    const toolMessage = model.lastRequest?.messages.at(-1);
    expect(toolMessage).toMatchObject({ role: 'tool', isError: true });
    expect(toolMessage?.content).toMatch(/AGENT_NOT_FOUND/);
  });

  it('caps concurrent turns across agents with a shared pool', async () => {
    let running = 0;
    let peak = 0;
    const slowTool = defineTool({
      name: 'work',
      description: '',
      input: z.object({}),
      async execute() {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return 'done';
      },
    });
    const model = new MockLLM({
      fallback: (request) =>
        request.messages.at(-1)?.role === 'tool' ? { text: 'ok' } : { toolCalls: [{ name: 'work', arguments: {} }] },
    });
    const agentrix = manager({ model, tools: [slowTool], maxConcurrentTurns: 3 });
    for (let i = 0; i < 12; i++) await agentrix.create({ id: `w${i}`, tools: ['work'] });
    for (let i = 0; i < 12; i++) await agentrix.send({ to: `w${i}`, content: 'go' });
    await agentrix.waitForIdle({ timeoutMs: 10_000 });
    expect(peak).toBe(3);
    expect(agentrix.list().every((agent) => agent.turns === 1)).toBe(true);
  });

  it('emits the lifecycle of a turn in order', async () => {
    const agentrix = manager({ model: new MockLLM({ script: [{ text: 'hi there' }] }) });
    const seen: string[] = [];
    for (const name of [
      'message.received',
      'turn.started',
      'model.token',
      'model.responded',
      'turn.completed',
    ] as const) {
      agentrix.events.on(name, () => {
        if (seen.at(-1) !== name) seen.push(name);
      });
    }
    await agentrix.create({ id: 'a1' });
    await agentrix.ask('a1', 'hello');
    await agentrix.waitForIdle();
    expect(seen).toEqual(['message.received', 'turn.started', 'model.token', 'model.responded', 'turn.completed']);
  });

  it('close() stops idle and busy agents, gives the message back, and is idempotent', async () => {
    const agentrix = manager({ model: new MockLLM({ fallback: { text: 'slow', delayMs: 10_000 } }) });
    await agentrix.create({ id: 'busy' });
    await agentrix.create({ id: 'idle' });
    const started = next(agentrix.events, 'turn.started');
    await agentrix.send({ to: 'busy', content: 'work' });
    await started;
    const first = agentrix.close();
    expect(agentrix.close()).toBe(first);
    await first;
    await expect(agentrix.create({ id: 'late' })).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a bus passed in is left open on close', async () => {
    const owner = manager({ model: new MockLLM({ fallback: { text: 'ok' } }) });
    const guest = new AgentManager({ bus: owner.bus, model: new MockLLM({ fallback: { text: 'guest' } }) });
    await guest.create({ id: 'g1' });
    await guest.close();
    await owner.create({ id: 'o1' });
    expect((await owner.ask('o1', 'still open?')).content).toBe('ok');
  });

  it('restores every agent in its recorded state after a restart, with its history and pending messages', async () => {
    const bus = new InMemoryBus();
    const registry = new InMemoryAgentRegistry();
    const contextStore = new InMemoryContextStore();
    const shared = { bus, registry, contextStore };
    const echo = () => new MockLLM({ fallback: (request) => ({ text: `seen ${request.messages.length} messages` }) });
    const first = new AgentManager({
      ...shared,
      model: echo(),
      models: { broken: new MockLLM({ fallback: { error: new AgentrixError('AUTH_FAILED', 'key refused') } }) },
    });
    await first.create({ id: 'a1' });
    await first.spawn('a1', { id: 'child' });
    await first.create({ id: 'sleeper' });
    first.pause('sleeper');
    await first.create({ id: 'doomed' });
    await first.terminate('doomed');
    await first.create({ id: 'broken', model: 'broken', modelRetry: fastRetry });
    await expect(first.ask('broken', 'hi')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect((await first.ask('a1', 'remember this')).content).toBe('seen 1 messages');
    await first.waitForIdle();
    await first.close();

    // While the process is down, a message arrives.
    await bus.send({ from: 'outside', to: 'a1', replyTo: 'outside', content: 'still there?' });

    const second = manager({
      ...shared,
      model: echo(),
      models: { broken: new MockLLM({ fallback: { text: 'fixed' } }) },
    });
    const restored = await second.restore();
    expect(restored.map((agent) => agent.id).sort()).toEqual(['a1', 'broken', 'child', 'doomed', 'sleeper']);
    expect(second.get('sleeper').state).toBe('paused');
    expect(second.get('doomed').state).toBe('terminated');
    expect(second.get('broken')).toMatchObject({ state: 'error', lastError: { code: 'AUTH_FAILED' } });
    expect(second.get('a1').children).toEqual(['child']);
    const [reply] = await bus.read('outside', { blockMs: 5_000 });
    // system prompt is empty, so: first question, first answer, this question.
    expect(reply?.envelope.content).toBe('seen 3 messages');
    second.resume('broken');
    await second.waitForIdle();
    expect(second.get('broken')).toMatchObject({ state: 'idle', turns: 1 });
    expect(await second.restore()).toEqual([]);
    await bus.close();
  });

  it('rejects invalid manager options', () => {
    expect(() => new AgentManager({ maxConcurrentTurns: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/maxConcurrentTurns/) }),
    );
    expect(() => new AgentManager({ askTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('start() is only for new agents; resume() during a turn keeps it running', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const wait = defineTool({
      name: 'wait',
      description: '',
      input: z.object({}),
      execute: () => gate.then(() => 'ok'),
    });
    const model = new MockLLM({
      fallback: (request) =>
        request.messages.at(-1)?.role === 'tool' ? { text: 'done' } : { toolCalls: [{ name: 'wait', arguments: {} }] },
    });
    const agentrix = manager({ model, tools: [wait] });
    await agentrix.create({ id: 'a1', tools: ['wait'] });
    agentrix.pause('a1');
    expect(() => agentrix.start('a1')).toThrow(
      expect.objectContaining({ code: 'ILLEGAL_STATE_TRANSITION', message: expect.stringMatching(/use resume/) }),
    );
    agentrix.resume('a1');
    const started = next(agentrix.events, 'turn.started');
    await agentrix.send({ to: 'a1', content: 'go' });
    await started;
    agentrix.resume('a1');
    expect(agentrix.get('a1').state).toBe('running');
    agentrix.pause('a1');
    agentrix.resume('a1'); // cancels the pending pause
    release();
    await agentrix.waitForIdle();
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', turns: 1 });
  });

  it('keeps the lease of a turn that runs longer than the bus lease, so it runs once', async () => {
    // One FakeClock for the bus's lease and the runtime's heartbeat: the turn outlives six leases
    // without a real wait, so the test cannot pass (or fail) by the machine's speed.
    const clock = new FakeClock();
    const bus = new InMemoryBus({ leaseMs: 40, clock });
    let finish!: (value: string) => void;
    const slow = defineTool({
      name: 'slow',
      description: '',
      input: z.object({}),
      execute: () => new Promise<string>((resolve) => (finish = resolve)),
    });
    const model = new MockLLM({
      fallback: (request) =>
        request.messages.at(-1)?.role === 'tool' ? { text: 'done' } : { toolCalls: [{ name: 'slow', arguments: {} }] },
    });
    const agentrix = manager({ bus, clock, model, tools: [slow] });
    const attempts: number[] = [];
    agentrix.events.on('turn.started', (event) => attempts.push(event.attempt));
    await agentrix.create({ id: 'a1', tools: ['slow'] });
    const started = next(agentrix.events, 'tool.called');
    await agentrix.send({ to: 'a1', content: 'go' });
    await started;
    // A second process's consumer polls the inbox while the turn runs: 240 ms, six leases.
    for (let i = 0; i < 6; i++) {
      await clock.advance(40);
      expect(await bus.read('a1', { consumer: 'other-process', blockMs: 0 })).toEqual([]);
    }
    finish('ok');
    await agentrix.waitForIdle();
    expect(attempts).toEqual([1]);
    expect(agentrix.get('a1').turns).toBe(1);
    await bus.close();
  });

  it('pauses while the store is unavailable, resumes by itself, and loses nothing', async () => {
    const contexts = new InMemoryContextStore();
    let failures = 2;
    const flaky = {
      load: (agentId: string, threadId: string) => contexts.load(agentId, threadId),
      delete: (agentId: string, threadId?: string) => contexts.delete(agentId, threadId),
      threads: (agentId: string) => contexts.threads(agentId),
      save: async (context: Parameters<InMemoryContextStore['save']>[0]) => {
        if (failures-- > 0) throw new AgentrixError('STORE_UNAVAILABLE', 'connection refused');
        return contexts.save(context);
      },
    };
    const agentrix = manager({
      model: new MockLLM({ fallback: { text: 'stored at last' } }),
      contextStore: flaky,
      outageRetry: { baseDelayMs: 5, maxDelayMs: 10 },
    });
    const pauses: string[] = [];
    agentrix.events.on('agent.state', (event) => {
      if (event.to === 'paused') pauses.push(event.reason ?? '');
    });
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'remember me' });
    await vi.waitFor(() => expect(agentrix.get('a1').turns).toBe(1), { timeout: 5_000 });
    await agentrix.waitForIdle();
    expect(pauses).toHaveLength(2);
    expect(pauses[0]).toMatch(/^STORE_UNAVAILABLE: retrying in \d+ ms$/);
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', lastError: undefined });
    expect((await contexts.load('a1', 'main'))?.messages.map((message) => message.content)).toEqual([
      'remember me',
      'stored at last',
    ]);
    expect(await agentrix.bus.stats('a1')).toMatchObject({ unread: 0, inFlight: 0, deadLetters: 0 });
  });

  it('a manual pause during an outage wins over the automatic resume', async () => {
    const failing = {
      load: async () => undefined,
      delete: async () => 0,
      threads: async () => [],
      save: async () => {
        throw new AgentrixError('STORE_UNAVAILABLE', 'down');
      },
    };
    const clock = new FakeClock();
    const agentrix = manager({
      clock,
      model: new MockLLM({ fallback: { text: 'x' } }),
      contextStore: failing,
      outageRetry: { baseDelayMs: 20, maxDelayMs: 20 },
    });
    await agentrix.create({ id: 'a1' });
    const paused = next(agentrix.events, 'agent.state', (event) => event.to === 'paused');
    await agentrix.send({ to: 'a1', content: 'hi' });
    await paused;
    const resumesAt = agentrix.get('a1').pause?.resumesAt as number;
    expect(resumesAt - clock.now()).toBeLessThanOrEqual(20);
    agentrix.pause('a1');
    await clock.advance(1_000); // well past the automatic resume
    expect(clock.now()).toBeGreaterThan(resumesAt);
    expect(agentrix.get('a1')).toMatchObject({ state: 'paused', pause: { kind: 'host' } });
  });

  it('an idle agent whose bus read fails keeps waiting and reading, without an error state', async () => {
    const bus = new InMemoryBus();
    let failures = 3;
    const read = bus.read.bind(bus);
    bus.read = async (inbox, options) => {
      if (inbox === 'a1' && failures-- > 0) throw new AgentrixError('BUS_UNAVAILABLE', 'redis down');
      return read(inbox, options);
    };
    const agentrix = manager({
      bus,
      model: new MockLLM({ fallback: { text: 'back' } }),
      outageRetry: { baseDelayMs: 5, maxDelayMs: 10 },
    });
    const states: string[] = [];
    agentrix.events.on('agent.state', (event) => states.push(event.to));
    await agentrix.create({ id: 'a1' });
    expect((await agentrix.ask('a1', 'hello?', { timeoutMs: 5_000 })).content).toBe('back');
    expect(failures).toBeLessThan(0);
    expect(states).not.toContain('error');
    await bus.close();
  });
});
