import { defineTool } from '@agentrix/core';
import { z } from 'zod';

/**
 * The built-in `send_message` tool: lets an agent message another agent. The recipient's
 * reply comes back to the sender as a new message (a new turn), unless `expectReply` is false.
 */
export const sendMessageTool = defineTool({
  name: 'send_message',
  description:
    'Send a message to another agent. Its reply arrives later as a new message to you, unless expectReply is false.',
  input: z.object({
    to: z.string().min(1).describe('The id of the agent to send to'),
    content: z.string().min(1).describe('The message text'),
    expectReply: z.boolean().default(true).describe('Whether the recipient should answer you'),
  }),
  async execute({ to, content, expectReply }, context) {
    const envelope = await context.send(expectReply ? { to, content } : { to, content, replyTo: undefined });
    return { sent: true, messageId: envelope.id, to };
  },
});
