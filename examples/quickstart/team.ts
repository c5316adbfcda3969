import { type ChatModel, defineTool } from '@agentrix/core';
import { type AgentManager, createAgentrix } from '@agentrix/runtime';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { z } from 'zod';

/**
 * A small team: a planner splits a goal into two tasks, two workers do them, a critic
 * reviews each answer, and the planner publishes a report once both are approved.
 * Everything runs in this process on an in-memory bus.
 */
export interface TeamOptions {
  /** One model for every agent. Default: the scripted mock models below (no API key needed). */
  model?: ChatModel;
  /** Called with each readable log line. */
  log?: (line: string) => void;
}

export interface Team {
  agentrix: AgentManager;
  /** Resolves with the planner's final report. */
  report: Promise<string>;
  close(): Promise<void>;
}

export async function startTeam(options: TeamOptions = {}): Promise<Team> {
  const log = options.log ?? (() => {});
  let publish: (text: string) => void = () => {};
  const report = new Promise<string>((resolve) => {
    publish = resolve;
  });
  const publishReport = defineTool({
    name: 'publish_report',
    description: 'Publish the final report for the goal.',
    input: z.object({ report: z.string().min(1) }),
    execute: ({ report: text }) => {
      publish(text);
      return 'published';
    },
  });
  const models: Record<string, ChatModel> = options.model
    ? { default: options.model }
    : { default: workerModel(), planner: plannerModel(), critic: criticModel() };
  const agentrix = await createAgentrix({ models, tools: [publishReport], maxConcurrentTurns: 4 });
  watch(agentrix, log);

  const model = (name: string) => (options.model ? 'default' : name);
  await agentrix.create({
    id: 'planner',
    role: 'planner',
    model: model('planner'),
    tools: ['send_message', 'publish_report'],
    instructions:
      'You split a goal into two tasks, send one to worker-1 and one to worker-2, send each answer to the critic, and publish a report when both are approved.',
  });
  for (const id of ['worker-1', 'worker-2']) {
    await agentrix.create({
      id,
      role: 'worker',
      model: 'default',
      instructions: 'You complete the task you are given, briefly.',
    });
  }
  await agentrix.create({
    id: 'critic',
    role: 'critic',
    model: model('critic'),
    instructions: 'You review an answer. Reply "APPROVED: <reason>" or "REJECTED: <reason>".',
  });
  return { agentrix, report, close: () => agentrix.close() };
}

/** Prints states, messages and tool calls as they happen. */
function watch(agentrix: AgentManager, log: (line: string) => void): void {
  const short = (text: string) => (text.length > 70 ? `${text.slice(0, 67)}...` : text).replace(/\s+/g, ' ');
  agentrix.events.on('agent.state', ({ agentId, from, to }) => {
    if (from !== 'created') log(`  ${agentId.padEnd(9)} ${from} -> ${to}`);
  });
  agentrix.events.on('message.sent', ({ envelope }) => {
    if (envelope.from.startsWith('host:') || envelope.to.startsWith('host:')) return;
    log(`✉ ${envelope.from} -> ${envelope.to}: ${short(envelope.content)}`);
  });
  agentrix.events.on('tool.called', ({ agentId, toolCall }) => {
    if (toolCall.name !== 'send_message') log(`⚙ ${agentId} calls ${toolCall.name}`);
  });
}

const lastUser = (request: MockRequest) => {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message?.role === 'user') return message;
  }
  return undefined;
};
const afterTools = (request: MockRequest) => request.messages.at(-1)?.role === 'tool';

/** The planner's script: dispatch, forward answers to the critic, report when all are approved. */
function plannerModel(): MockLLM {
  const approved = new Map<string, string>();
  const answers = new Map<string, string>();
  const respond = (request: MockRequest): MockStep => {
    const input = lastUser(request);
    if (afterTools(request)) return { text: 'Done for now; waiting for the others.' };
    const from = input?.name ?? 'host';
    const text = input?.content ?? '';
    if (from === 'host') {
      return {
        toolCalls: [
          { name: 'send_message', arguments: { to: 'worker-1', content: `Task 1 of "${text}": list three risks.` } },
          {
            name: 'send_message',
            arguments: { to: 'worker-2', content: `Task 2 of "${text}": list three mitigations.` },
          },
        ],
      };
    }
    if (from.startsWith('worker-')) {
      answers.set(from, text);
      return {
        toolCalls: [
          { name: 'send_message', arguments: { to: 'critic', content: `Review the answer of ${from}: ${text}` } },
        ],
      };
    }
    if (from === 'critic') {
      const worker = /worker-\d/.exec(text)?.[0] ?? 'unknown';
      approved.set(worker, text);
      if (approved.size < 2) return { text: `${worker} approved; waiting for the other review.` };
      const body = [...answers].map(([id, answer]) => `- ${id}: ${answer}`).join('\n');
      return {
        toolCalls: [{ name: 'publish_report', arguments: { report: `Both tasks approved by the critic.\n${body}` } }],
      };
    }
    return { text: 'Noted.' };
  };
  return new MockLLM({ name: 'mock-planner', fallback: respond });
}

function workerModel(): MockLLM {
  return new MockLLM({
    name: 'mock-worker',
    fallback: (request) => {
      const task = lastUser(request)?.content ?? '';
      return {
        text: task.includes('risks')
          ? 'Risks: budget overrun, a crashed worker, a stale tool list.'
          : 'Mitigations: hard budgets, durable inboxes, refresh on list_changed.',
      };
    },
  });
}

function criticModel(): MockLLM {
  return new MockLLM({
    name: 'mock-critic',
    fallback: (request) => {
      const worker = /worker-\d/.exec(lastUser(request)?.content ?? '')?.[0] ?? 'the worker';
      return { text: `APPROVED: ${worker} answered clearly and concretely.` };
    },
  });
}
