import { describe, expect, it } from 'vitest';
import { MockLLM } from './mock-llm.js';
import { createTestHarness } from './test-harness.js';

describe('createTestHarness', () => {
  it('wires agents to a MockLLM, records events and runs until idle', async () => {
    const model = new MockLLM({ fallback: (request) => ({ text: `echo ${request.messages.at(-1)?.content}` }) });
    await using harness = await createTestHarness({ model, agents: [{ id: 'echo' }, { id: 'other' }] });
    await harness.send('echo', 'one');
    await harness.send('other', 'two');
    await harness.runUntilIdle();
    expect(
      harness
        .eventsOf('turn.completed')
        .map((event) => event.reply)
        .sort(),
    ).toEqual(['echo one', 'echo two']);
    expect(await harness.ask('echo', 'three')).toBe('echo three');
    expect(harness.eventsOf('agent.created')).toHaveLength(2);
    // ask() resolves when the reply is sent; the turn is counted once its context is saved.
    await harness.runUntilIdle();
    expect(harness.manager.get('echo').turns).toBe(2);
  });

  it('uses a fresh MockLLM by default and reports an exhausted script as a failed turn', async () => {
    await using harness = await createTestHarness({ agents: [{ id: 'a1', modelRetry: { attempts: 1 } }] });
    const mock = harness.model as MockLLM;
    mock.push({ text: 'scripted' });
    expect(await harness.ask('a1', 'first')).toBe('scripted');
    await expect(harness.ask('a1', 'second')).rejects.toMatchObject({ code: 'MOCK_SCRIPT_EXHAUSTED' });
    expect(harness.eventsOf('turn.failed')[0]?.error.code).toBe('MOCK_SCRIPT_EXHAUSTED');
  });
});
