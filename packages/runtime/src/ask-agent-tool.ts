import { defineTool } from '@agentrix/core';
import { z } from 'zod';

/**
 * The built-in `ask_agent` tool: hands a sub-task to another agent and waits for its answer
 * within the turn (the planner / worker / critic pattern). The other agent's work is charged to
 * this turn's user, workflow and tags; a cycle (A asks B asks A), an unknown or paused agent, a
 * failure of the other agent or its timeout comes back as the tool's error. List it in
 * `spec.tools` to use it.
 */
export const askAgentTool = defineTool({
  name: 'ask_agent',
  description:
    'Ask another agent to do a sub-task and wait for its answer. Use it when a task needs a specialist agent; the answer comes back as this tool result.',
  input: z.object({
    agent: z.string().min(1).describe('The id of the agent to ask'),
    task: z.string().min(1).describe('What the agent should do, with everything it needs to know'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(3_600_000)
      .optional()
      .describe('How long to wait for the answer, in milliseconds (default 60000)'),
  }),
  // The wait is bounded by `timeoutMs` and by the turn's deadline; this only keeps the tool
  // deadline from cutting a long delegation short.
  timeoutMs: 3_600_000,
  async execute({ agent, task, timeoutMs }, context) {
    const answer = await context.ask({ to: agent, content: task, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    return { agent, answer: answer.content };
  },
});
