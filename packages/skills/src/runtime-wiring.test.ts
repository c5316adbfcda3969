import { AgentManager } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSpawnAgentSkill } from './builtin-skills.js';
import { Router } from './router.js';
import { defineSkill } from './skill.js';
import { SkillExecutor } from './skill-executor.js';
import { SkillRegistry } from './skill-registry.js';

describe('skills in the runtime', () => {
  it('routes a turn to its skills, waits for approval through the manager, and never acts twice for one key', async () => {
    const transfers: number[] = [];
    const registry = new SkillRegistry();
    registry.register(
      defineSkill({
        name: 'transfer',
        description: 'Send money',
        input: z.object({ to: z.string(), amount: z.number().positive(), reference: z.string() }),
        costTier: 'high',
        requiresApproval: true,
        idempotencyKey: (input) => input.reference,
        execute: ({ amount }) => {
          transfers.push(amount);
          return { ok: true };
        },
      }),
    );
    registry.register(
      defineSkill({
        name: 'weather',
        description: 'Weather',
        input: z.object({ city: z.string() }),
        execute: () => 'sunny',
      }),
    );
    const executor = new SkillExecutor({ registry });
    const router = new Router({ rules: [{ name: 'money', keywords: ['money'], skills: ['transfer'] }] });
    const call = { name: 'transfer', arguments: { to: 'bob', amount: 5, reference: 'invoice-7' } };
    const model = new MockLLM({
      script: [{ toolCalls: [call] }, { text: 'sent' }, { toolCalls: [call] }, { text: 'already sent' }],
    });
    // Built from parts on purpose: this is the wiring createAgentrix does for a host.
    await using agentrix = new AgentManager({
      model,
      toolExecutor: executor,
      toolSource: registry,
      router,
      approvals: executor.approvals,
    });
    await agentrix.create({ id: 'teller', tools: ['transfer', 'weather'] });

    const answer = agentrix.ask('teller', 'send money to bob');
    await vitestWaitFor(() => agentrix.pendingApprovals('teller').length === 1);
    const [request] = agentrix.pendingApprovals('teller');
    expect(request).toMatchObject({ skill: 'transfer', input: { amount: 5 } });
    expect(model.requests[0]?.tools?.map((tool) => tool.name)).toEqual(['transfer']);
    agentrix.approve(request!.id, { by: 'ops' });
    expect((await answer).content).toBe('sent');

    // The model repeats the same call (same reference): the stored result comes back, no second transfer.
    expect((await agentrix.ask('teller', 'send money to bob again')).content).toBe('already sent');
    expect(transfers).toEqual([5]);
    expect(agentrix.pendingApprovals()).toEqual([]);
    await using bare = new AgentManager({ model });
    expect(() => bare.approve('x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('lets an agent spawn a child with a subset of its tools through spawn_agent', async () => {
    const registry = new SkillRegistry();
    registry.register(
      defineSkill({ name: 'weather', description: 'Weather', input: z.object({}), execute: () => 'sunny' }),
    );
    const executor = new SkillExecutor({ registry });
    const plannerSteps = [
      { toolCalls: [{ name: 'spawn_agent', arguments: { instructions: 'x', tools: ['send_message'] } }] },
      {
        toolCalls: [
          {
            name: 'spawn_agent',
            arguments: { instructions: 'Report the weather.', tools: ['weather'], task: 'Oslo?' },
          },
        ],
      },
      { text: 'asked a child' },
      { text: 'the child says sunny' },
    ];
    // One model for the family (a child inherits its parent's model); it answers by caller.
    const model = new MockLLM({
      fallback: (request) =>
        request.scope?.agentId === 'planner' ? (plannerSteps.shift() ?? { text: '?' }) : { text: 'sunny' },
    });
    await using agentrix = new AgentManager({ model, toolExecutor: executor, toolSource: registry });
    registry.register(createSpawnAgentSkill({ spawn: (request) => agentrix.spawnChild(request) }));
    await agentrix.create({ id: 'planner', tools: ['spawn_agent', 'weather'] });
    await agentrix.send({ to: 'planner', content: 'what is the weather?' });
    await agentrix.waitForIdle();
    const plannerRequests = model.requests.filter((request) => request.scope?.agentId === 'planner');
    const refused = plannerRequests[1]?.messages.at(-1);
    expect(refused).toMatchObject({ role: 'tool', isError: true });
    expect(refused?.content).toMatch(/does not have: send_message/);
    const [spawned] = agentrix.list({ parentId: 'planner' });
    expect(spawned).toMatchObject({ parentId: 'planner', spec: { tools: ['weather'], model: 'default' } });
    expect(agentrix.get('planner')).toMatchObject({ turns: 2, children: [spawned!.id] });
    expect(plannerRequests.at(-1)?.messages.at(-1)).toMatchObject({
      role: 'user',
      content: 'sunny',
      name: spawned!.id,
    });
    expect(plannerSteps).toEqual([]);
    await agentrix.terminate('planner');
    expect(agentrix.get(spawned!.id).state).toBe('terminated');
  });
});

async function vitestWaitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
