import { AgentrixEvents } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Router } from './router.js';
import { defineSkill } from './skill.js';
import { SkillRegistry } from './skill-registry.js';

function skills() {
  const registry = new SkillRegistry();
  const make = (name: string, costTier: 'low' | 'med' | 'high') =>
    registry.register(
      defineSkill({ name, description: `${name} things`, input: z.object({}), costTier, execute: () => name }),
    );
  make('web_search', 'high');
  make('fs__read', 'low');
  make('fs__write', 'med');
  return registry.select(['*']);
}

describe('Router', () => {
  it('decides by rules first (keywords, patterns, predicates), cheapest skills first', async () => {
    const events = new AgentrixEvents();
    const decided = vi.fn();
    events.on('router.decided', decided);
    const small = new MockLLM({ fallback: { text: '{"needsSkills":true,"skills":["web_search"],"confidence":1}' } });
    const router = new Router({
      events,
      small,
      rules: [
        { name: 'chit-chat', pattern: /^(hi|hello|thanks)\b/i, skills: [] },
        { name: 'files', keywords: ['file', 'folder'], skills: ['fs__*'] },
        { name: 'long', predicate: (input) => input.text.length > 500, skills: ['web_search'] },
      ],
    });
    expect(await router.route({ agentId: 'a', text: 'Hello there', skills: skills() })).toEqual({
      needsSkills: false,
      skills: [],
      stage: 'rule',
      rule: 'chit-chat',
    });
    const files = await router.route({ agentId: 'a', text: 'Open the FILE please', skills: skills() });
    expect(files).toMatchObject({ stage: 'rule', rule: 'files', skills: ['fs__read', 'fs__write'] });
    // "profile" contains "file" but is not the word.
    expect((await router.route({ agentId: 'a', text: 'update my profile', skills: skills() })).stage).toBe(
      'small-model',
    );
    expect(small.requests).toHaveLength(1);
    expect(decided).toHaveBeenCalledTimes(3);
  });

  it('asks the small model, then the large one when unsure or failing, then falls back', async () => {
    const small = new MockLLM({
      script: [
        { text: '{"needsSkills":true,"skills":["fs__read","unknown"],"confidence":0.9}' },
        { text: '{"needsSkills":true,"skills":["fs__read"],"confidence":0.2}' },
        { text: 'not json' },
        { error: new Error('down') },
      ],
    });
    const large = new MockLLM({
      script: [
        { text: '```json\n{"needsSkills":false,"skills":[],"confidence":0.8}\n```' },
        { text: '{"needsSkills":true,"skills":["web_search"]}' },
        { error: new Error('also down') },
      ],
    });
    const router = new Router({ small, large });
    const input = { agentId: 'a', text: 'something', skills: skills() };
    expect(await router.route(input)).toEqual({
      needsSkills: true,
      skills: ['fs__read'],
      stage: 'small-model',
      confidence: 0.9,
    });
    expect(await router.route(input)).toMatchObject({ needsSkills: false, stage: 'large-model' });
    expect(await router.route(input)).toMatchObject({ skills: ['web_search'], stage: 'large-model' });
    const fallback = await router.route(input);
    expect(fallback).toMatchObject({ stage: 'fallback', skills: ['fs__read', 'fs__write', 'web_search'] });
    expect(fallback.reason).toMatch(/small-model failed: down; large-model failed: also down/);
    expect(small.requests[0]?.responseFormat).toMatchObject({ type: 'json_schema' });
  });
});
