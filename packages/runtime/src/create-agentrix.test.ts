import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError, defineTool } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { createMemory } from '@agentrix/memory';
import { ApprovalGate, defineSkill } from '@agentrix/skills';
import { createAgentrixStore } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AgentManager } from './agent-manager.js';
import type { AgentrixOptions } from './agentrix-options.js';
import { createAgentrix } from './create-agentrix.js';

const EVERYTHING = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
const everything = { name: 'everything', transport: 'stdio' as const, command: process.execPath, args: [EVERYTHING] };

/** Child processes of this process (MCP stdio servers), by pid. */
function children(): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, command]) => command !== undefined && command !== 'ps')
      .map(([pid]) => Number(pid));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// A store on PGlite takes seconds to open (its WASM is compiled per instance).
const STORE_TIMEOUT = { timeout: 60_000 };

describe('createAgentrix: one tool pipeline', () => {
  it('runs a plain defineTool tool through the SkillExecutor (retries, tool events)', async () => {
    let calls = 0;
    const flaky = defineTool({
      name: 'flaky',
      description: 'Fails once with a retryable error',
      input: z.object({}),
      execute: () => {
        calls++;
        if (calls === 1) throw new AgentrixError('TOOL_FAILED', 'upstream hiccup', { retryable: true });
        return 'done';
      },
    });
    const script = () => [{ toolCalls: [{ name: 'flaky', arguments: {} }] }, { text: 'ok' }];
    await using agentrix = await createAgentrix({ model: new MockLLM({ script: script() }), tools: [flaky] });
    const retries: string[] = [];
    agentrix.on('skill.retry', ({ name }) => retries.push(name));
    await agentrix.create({ id: 'a1', tools: ['flaky'] });
    expect((await agentrix.ask('a1', 'go')).content).toBe('ok');
    expect(calls).toBe(2);
    expect(retries).toEqual(['flaky']);
    expect(agentrix.skills.registry.has('flaky')).toBe(true);

    // The same tool on a manager without the executor: the first failure goes back to the model.
    calls = 0;
    const model = new MockLLM({ script: script() });
    await using bare = new AgentManager({ model, tools: [flaky] });
    await bare.create({ id: 'a1', tools: ['flaky'] });
    await bare.ask('a1', 'go');
    expect(calls).toBe(1);
    expect(model.requests[1]?.messages.at(-1)).toMatchObject({ role: 'tool', isError: true });
  });

  it(
    'waits for approve() and replays an idempotency key from the store instead of acting twice',
    STORE_TIMEOUT,
    async () => {
      const transfers: number[] = [];
      const transfer = defineSkill({
        name: 'transfer',
        description: 'Send money',
        input: z.object({ amount: z.number(), reference: z.string() }),
        requiresApproval: true,
        idempotencyKey: (input) => input.reference,
        execute: ({ amount }) => {
          transfers.push(amount);
          return { sent: amount };
        },
      });
      const call = { toolCalls: [{ name: 'transfer', arguments: { amount: 5, reference: 'invoice-7' } }] };
      const model = new MockLLM({ script: [call, { text: 'sent' }, call, { text: 'already sent' }] });
      await using agentrix = await createAgentrix({ model, skills: [transfer], store: 'memory://' });
      const deduplicated: string[] = [];
      agentrix.on('skill.deduplicated', ({ key }) => deduplicated.push(key));
      expect(agentrix.skills.executor.idempotency).toBe(agentrix.store?.idempotency);
      await agentrix.create({ id: 'teller', tools: ['transfer'] });

      const answer = agentrix.ask('teller', 'pay invoice 7');
      await until(() => agentrix.pendingApprovals('teller').length === 1);
      expect(transfers).toEqual([]);
      agentrix.approve(agentrix.pendingApprovals('teller')[0]!.id, { by: 'ops' });
      expect((await answer).content).toBe('sent');

      expect((await agentrix.ask('teller', 'pay invoice 7 again')).content).toBe('already sent');
      expect(transfers).toEqual([5]);
      expect(deduplicated).toEqual(['transfer:invoice-7']);
      expect(model.requests[3]?.messages.at(-1)).toMatchObject({ role: 'tool', content: '{"sent":5}' });
    },
  );

  it('runs MCP tools through the executor and stops the servers it started on close', STORE_TIMEOUT, async () => {
    const before = children();
    const model = new MockLLM({
      script: [{ toolCalls: [{ name: 'everything__get-sum', arguments: { a: 19, b: 23 } }] }, { text: 'added' }],
    });
    const agentrix = await createAgentrix({ model, mcp: { servers: [everything] } });
    const completed: string[] = [];
    agentrix.on('tool.completed', ({ name, isError }) => completed.push(`${name} ${isError}`));
    const pid = agentrix.mcp?.status('everything').pid;
    expect(children()).toContain(pid);
    await agentrix.create({ id: 'clerk', tools: ['everything__*'] });
    expect((await agentrix.ask('clerk', 'add 19 and 23')).content).toBe('added');
    expect(model.requests[1]?.messages.at(-1)?.content).toMatch(/42/);
    expect(completed).toEqual(['everything__get-sum false']);
    await agentrix.close();
    expect(agentrix.mcp?.servers()).toEqual([]);
    await until(() => !children().includes(pid as number));
    expect(children()).toEqual(before);
  });
});

describe('createAgentrix: what it builds', STORE_TIMEOUT, () => {
  it('keeps contexts, specs, budgets and the ledger on the store, with the store bus by default', async () => {
    const provider = new MockLLM({ fallback: { text: 'pong' } });
    const agentrix = await createAgentrix({ store: 'memory://', gateway: { provider } });
    const { store, gateway } = agentrix;
    expect(agentrix.bus.inner).toBe(store?.bus);
    expect(agentrix.registry).toBe(store?.registry);
    expect(gateway?.ledger).toBe(store?.ledger);
    await agentrix.create({ id: 'a1' });
    expect((await agentrix.ask('a1', 'ping')).content).toBe('pong');
    await agentrix.waitForIdle();
    expect((await store!.registry.list()).map((entry) => entry.spec.id)).toEqual(['a1']);
    expect((await gateway!.report()).total.calls).toBe(1);

    const closeGateway = vi.spyOn(gateway!, 'close');
    await agentrix.close();
    // What it opened is closed: the gateway it built and the store it opened.
    expect(closeGateway).toHaveBeenCalledOnce();
    await expect(store!.registry.list()).rejects.toThrow();
  });

  it('wraps every model with memory and records each turn before its message is acked', async () => {
    const model = new MockLLM({ fallback: { text: 'noted' } });
    const agentrix = await createAgentrix({ model, store: 'memory://', memory: true });
    const { memory } = agentrix;
    await agentrix.create({ id: 'a1', scope: { userId: 'u1' } });
    await agentrix.ask('a1', 'my name is Ada');
    await agentrix.waitForIdle();
    const episodes = await memory!.recentEpisodes({ agentId: 'a1', userId: 'u1' });
    expect(episodes.map((episode) => episode.text)).toEqual([expect.stringContaining('my name is Ada')]);
    // No summary model was given and there is no gateway: the scripted model is never asked to summarize.
    expect(model.requests).toHaveLength(1);
    await agentrix.close();
    expect(memory!.closed).toBe(true);
  });

  it("distils sessions with the gateway's small tier when memory.distill is set, and closes the distiller", async () => {
    const models = {
      'test-large': { inputPerMillion: 10, outputPerMillion: 20, contextWindow: 8_000, maxOutputTokens: 1_000 },
      'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
    };
    // The agent's turns go to the large tier; the distiller asks the small one for JSON facts.
    const distilling = (request: { messages: readonly { content: string }[] }) =>
      request.messages[0]?.content.startsWith('You distill') === true;
    const provider = new MockLLM({
      fallback: (request) =>
        distilling(request)
          ? {
              text: JSON.stringify({
                summary: { text: 'Ada introduced herself.', evidence: [1] },
                facts: [{ key: 'ada.name', text: 'The user is called Ada', evidence: [1] }],
              }),
            }
          : { text: 'noted' },
    });
    const agentrix = await createAgentrix({
      store: 'memory://',
      gateway: { provider, models, tiers: { large: 'test-large', small: 'test-small' }, defaultTier: 'large' },
      memory: { distill: true },
    });
    // The conversation a turn's episodes belong to: the agent's scope, the agent and the thread.
    const scope = { userId: 'u1', agentId: 'a1', threadId: 'main' };
    await agentrix.create({ id: 'a1', scope: { userId: 'u1' } });
    await agentrix.ask('a1', 'my name is Ada');
    await agentrix.waitForIdle();
    expect(await agentrix.distiller!.distill(scope)).toMatchObject({ sessions: 1, facts: 1, summaries: 1 });
    const found = await agentrix.memory!.retrieve({ scope, query: 'What is the user called?', maxTokens: 200 });
    expect(found.facts.map((fact) => fact.text)).toEqual(['The user is called Ada']);
    expect(provider.requests[0]!.model).toBe('test-large');
    expect(provider.requests.filter(distilling).map((request) => request.model)).toEqual(['test-small']);
    await agentrix.close();
    // close() closed the distiller it built.
    await expect(async () => agentrix.distiller!.distill(scope)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('leaves open everything the host passed in', async () => {
    const store = await createAgentrixStore({ url: 'memory://' });
    const bus = new InMemoryBus();
    const gateway = createGateway({ provider: new MockLLM({ fallback: { text: 'pong' } }) });
    const approvals = new ApprovalGate();
    const memory = await createMemory({ database: store.database });
    try {
      const agentrix = await createAgentrix({ store, bus, gateway, approvals, memory });
      expect(agentrix.bus.inner).toBe(bus);
      await agentrix.create({ id: 'a1' });
      expect((await agentrix.ask('a1', 'ping')).content).toBe('pong');
      await agentrix.close();

      await bus.send({ from: 'x', to: 'y', content: 'still open' });
      expect((await store.registry.list()).map((entry) => entry.spec.id)).toEqual(['a1']);
      expect((await gateway.generate({ messages: [{ role: 'user', content: 'x' }] })).message.content).toBe('pong');
      expect(memory.closed).toBe(false);
      const aborted = AbortSignal.abort();
      const request = { agentId: 'a', turnId: 't', toolCallId: 'c', skill: 's', input: {} };
      // A closed gate would say CLOSED; an open one looks at the signal.
      await expect(approvals.request(request, { signal: aborted })).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await memory.close();
      approvals.close();
      await gateway.close();
      await bus.close();
      await store.close();
    }
  });
});

describe('createAgentrix: bad input', () => {
  const model = new MockLLM({ fallback: { text: 'x' } });
  const cases: [string, AgentrixOptions, RegExp][] = [
    ['an unknown key', { model, modle: model } as AgentrixOptions, /Unknown createAgentrix option "modle"/],
    ['its own executor', { model, toolExecutor: {} } as AgentrixOptions, /does not take "toolExecutor"/],
    ['a store URL of an unknown scheme', { model, store: 'mysql://db/app' }, /Unsupported database URL.*mysql:/],
    ['a bus URL that is not redis://', { model, bus: 'amqp://broker' }, /Unsupported bus "amqp:\/\/broker"/],
    ['bus options whose url is not redis://', { model, bus: { url: 'amqp://broker' } }, /Invalid bus object/],
    ["bus 'store' without a store", { model, bus: 'store' }, /needs a store/],
    ['gateway options without a provider', { gateway: {} }, /A gateway needs a provider/],
    ['a gateway and a default model', { model, gateway: { provider: model } }, /Both a gateway and a default model/],
    ['memory without a store', { model, memory: true }, /pass a store too/],
    [
      'memory.distill without a model',
      { model, store: 'memory://', memory: { distill: true } },
      /memory.distill needs a small model/,
    ],
    [
      'a memory.distill that is not an object',
      { model, store: 'memory://', memory: { distill: 'yes' as unknown as true } },
      /Invalid memory.distill option/,
    ],
    ['mcp without servers', { model, mcp: {} as AgentrixOptions['mcp'] }, /expected \{ servers/],
    ['a bad manager option', { model, maxConcurrentTurns: 0 }, /maxConcurrentTurns/],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses ${name} with INVALID_ARGUMENT`, STORE_TIMEOUT, async () => {
      const error = await createAgentrix(options).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(AgentrixError);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    });
  }

  it('hides credentials of a refused bus URL', async () => {
    const error = await createAgentrix({ model, bus: 'amqp://user:hunter2@broker' }).catch((thrown) => thrown);
    expect(error.message).not.toContain('hunter2');
  });

  it('closes what it opened when a later step fails', STORE_TIMEOUT, async () => {
    const before = children();
    const error = await createAgentrix({
      model,
      store: 'memory://',
      mcp: { servers: [everything] },
      memory: { maxTextLength: 10 },
    }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/maxTextLength/) });
    await until(() => children().length === before.length);
    expect(children()).toEqual(before);
  });
});
