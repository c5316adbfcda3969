import type { ChatModel } from '@agentrix/core';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { defineSkill } from '@agentrix/skills';
import type { AgentrixStore } from '@agentrix/store';
import { type TelegramAllowList, TelegramChannel } from '@agentrix/telegram';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { z } from 'zod';

/** Prices of the mock models, so the gateway's daily budget counts something. */
const MOCK_MODELS = {
  'mock-large': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 32_000, maxOutputTokens: 1_000 },
};

/** A skill the assistant can call: the time in a time zone. */
const currentTime = defineSkill({
  name: 'current_time',
  description: 'The current time in an IANA time zone',
  input: z.object({ timeZone: z.string().default('UTC') }),
  execute: ({ timeZone }) => ({
    timeZone,
    time: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date()),
  }),
});

/**
 * The mock chat model: remembers what memory put in the prompt ("my X is Y"), asks the
 * `current_time` skill for the time, and says what it did.
 */
export function mockChatModel(): MockLLM {
  return new MockLLM({
    record: false,
    fallback: (request: MockRequest): MockStep => {
      const last = request.messages.at(-1);
      if (last?.role === 'tool') {
        const { time, timeZone } = JSON.parse(String(last.content)) as { time: string; timeZone: string };
        return { text: `It is ${time} in ${timeZone}.` };
      }
      const said = String(last?.content ?? '');
      if (/what time/i.test(said)) return { toolCalls: [{ name: 'current_time', arguments: { timeZone: 'UTC' } }] };
      if (!said.endsWith('?')) return { text: 'Nice to meet you, I will remember that.' };
      const memory = request.messages.find((message) => String(message.content).startsWith('[memory]'))?.content ?? '';
      const topic = /what is my ([\w ]+)\?/i.exec(said)?.[1]?.toLowerCase();
      const fact = topic ? new RegExp(`user's ${topic} is ([\\w-]+)`, 'i').exec(String(memory))?.[1] : undefined;
      return { text: fact ? `Your ${topic} is ${fact}.` : 'I do not know yet.' };
    },
  });
}

/** The mock small model that writes memory: "my X is Y" becomes a stable fact. */
function mockSummaryModel(): MockLLM {
  return new MockLLM({
    record: false,
    fallback: (request: MockRequest) => {
      const said = String(request.messages.at(-1)?.content ?? '');
      const facts = [...said.matchAll(/\bmy ([\w ]+?) is ([\w-]+)/gi)].map((match) => ({
        key: `user.${match[1]!.toLowerCase().replaceAll(' ', '_')}`,
        text: `The user's ${match[1]!.toLowerCase()} is ${match[2]}`,
      }));
      return { text: JSON.stringify({ topic: said.slice(0, 80) || 'chat', stableFacts: facts }) };
    },
  });
}

export interface AssistantOptions {
  /** The bot token (@BotFather's, or any `<id>:<secret>` for the fake Bot API). */
  token: string;
  /** Default: Telegram. The fake Bot API's `apiRoot` when running offline. */
  apiRoot?: string;
  /** A PGlite directory, a `postgres://` URL or an opened store: memory, contexts, updates and the budget live there. */
  store: string | AgentrixStore;
  /** A real model provider (OpenAI); default: the mock models. */
  provider?: ChatModel;
  /** Who may talk to the bot (closed by default). */
  allow: TelegramAllowList;
  /** The gateway's daily budget for everyone, in USD. Default 1. */
  dailyUsd?: number;
  /** Long polling (default) or not (updates come through `channel.webhook`). */
  polling?: boolean;
}

export interface Assistant {
  agentrix: Agentrix;
  channel: TelegramChannel;
  close(): Promise<void>;
}

/**
 * The seed's Telegram assistant: updates come in by long polling and are recorded by update id;
 * each chat is a thread of the `assistant` agent, which remembers users across sessions
 * (memory), uses a skill, and thinks through the gateway under a hard daily budget; answers are
 * streamed back, and `send_telegram` lets it write to a chat on its own.
 */
export async function startAssistant(options: AssistantOptions): Promise<Assistant> {
  const agentrix = await createAgentrix({
    store: options.store,
    gateway: {
      provider: options.provider ?? mockChatModel(),
      ...(options.provider ? {} : { models: MOCK_MODELS, tiers: { large: 'mock-large' } }),
      budgets: [{ id: 'daily', scope: 'global', period: 'day', usd: options.dailyUsd ?? 1 }],
    },
    // With a real provider the gateway writes the memory summaries (budgeted); offline, a mock does.
    memory: options.provider ? true : { model: mockSummaryModel() },
    skills: [currentTime],
  });
  try {
    const channel = new TelegramChannel(agentrix, {
      token: options.token,
      agent: 'assistant',
      allow: options.allow,
      ...(options.apiRoot !== undefined ? { apiRoot: options.apiRoot } : {}),
    });
    await agentrix.restore();
    if (!agentrix.has('assistant')) {
      await agentrix.create({
        id: 'assistant',
        instructions: 'You are a friendly assistant on Telegram. Answer briefly.',
        tools: ['current_time', 'send_telegram'],
      });
    }
    await channel.start({ polling: options.polling ?? true });
    return {
      agentrix,
      channel,
      async close() {
        await channel.close();
        await agentrix.close();
      },
    };
  } catch (error) {
    await agentrix.close();
    throw error;
  }
}
