// The set-up shared by the channel test files: a channel started on the fake Bot API (closed
// after each test), an approval-gated skill, and event collection.
import type { AgentrixEventMap } from '@agentrix/core';
import { type Agentrix, type AgentrixOptions, createAgentrix } from '@agentrix/runtime';
import { defineSkill } from '@agentrix/skills';
import { MockLLM } from '@agentrix/testing';
import { afterEach } from 'vitest';
import { z } from 'zod';
import { TelegramChannel } from './telegram-channel.js';
import type { TelegramChannelOptions } from './telegram-options.js';
import { SlowStreamModel, testToken } from './test-support.js';
import type { FakeBotApi } from './testing/index.js';

export type SetupOptions = Partial<TelegramChannelOptions> & {
  skills?: AgentrixOptions['skills'];
  bus?: AgentrixOptions['bus'];
  polling?: boolean;
};

/**
 * The channel tests of one file: everything a test opens (`open`) is closed after it, and
 * `setup(model, options)` gives a runtime with one agent `assistant` and a started channel on a
 * fresh bot token (its own namespace) of the fake Bot API, with `defaults` under `options`.
 * `model` is the MockLLM that answers (inside the SlowStreamModel when one is given).
 */
export function channelTests(fake: () => FakeBotApi, defaults: Partial<TelegramChannelOptions>) {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });

  async function setup(model: ConstructorParameters<typeof MockLLM>[0] | SlowStreamModel, options: SetupOptions = {}) {
    const { skills, bus, polling, ...channelOptions } = options;
    const chatModel = model instanceof SlowStreamModel ? model : new MockLLM(model);
    const agentrix: Agentrix = await createAgentrix({
      model: chatModel,
      ...(skills ? { skills } : {}),
      ...(bus ? { bus } : {}),
    });
    open.push(agentrix);
    const token = testToken(1000 + Math.floor(Math.random() * 1e6));
    const channel = new TelegramChannel(agentrix, {
      token,
      agent: 'assistant',
      apiRoot: fake().apiRoot,
      allow: { users: [7] },
      ...defaults,
      ...channelOptions,
    });
    await agentrix.create({ id: 'assistant', tools: skills ? skills.map((skill) => skill.name) : [] });
    await channel.start(polling === undefined ? {} : { polling });
    open.push(channel);
    return { agentrix, channel, token, model: chatModel instanceof SlowStreamModel ? chatModel.mock : chatModel };
  }

  return { open, setup };
}

/** The events of one name the runtime emits from now on. */
export function collect<K extends keyof AgentrixEventMap>(agentrix: Agentrix, name: K): AgentrixEventMap[K][] {
  const seen: AgentrixEventMap[K][] = [];
  agentrix.on(name, ((event: AgentrixEventMap[K]) => seen.push(event)) as never);
  return seen;
}

/** A model script: call `transfer` for 5, then say 'Sent 5.'. */
export const TRANSFER_SCRIPT = {
  script: [{ toolCalls: [{ name: 'transfer', arguments: { amount: 5 } }] }, { text: 'Sent 5.' }],
};

/** A skill that sends money, so it waits for an approval; `transfers()` counts the runs. */
export function transferSkill() {
  let transfers = 0;
  const skill = defineSkill({
    name: 'transfer',
    description: 'Send money',
    input: z.object({ amount: z.number() }),
    requiresApproval: true,
    execute: () => {
      transfers++;
      return { ok: true };
    },
  });
  return { skill, transfers: () => transfers };
}
