import type { ChatMessage, ChatModel, ToolDefinition, ToolMessage } from '@agentrix/core';
import { AddInput, add } from './add-tool.js';

/**
 * The baseline of section 1: the same two steps as a `runTurn` with one tool, written by hand
 * with no framework. Call the model, parse the arguments, validate them with the same zod
 * schema, run the function, call the model again with the result.
 */
export async function bareLoop(
  model: ChatModel,
  messages: readonly ChatMessage[],
  tools: ToolDefinition[],
): Promise<string> {
  const conversation: ChatMessage[] = messages.slice();
  for (;;) {
    const response = await model.generate({ messages: conversation, tools });
    conversation.push(response.message);
    const calls = response.message.toolCalls;
    if (!calls || calls.length === 0) return response.message.content;
    for (const call of calls) {
      const input = AddInput.parse(JSON.parse(call.arguments));
      const result: ToolMessage = {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: JSON.stringify(await add(input)),
      };
      conversation.push(result);
    }
  }
}
