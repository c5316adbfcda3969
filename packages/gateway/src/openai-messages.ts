import type { ChatMessage, ChatRequest, FinishReason, ToolChoice, ToolDefinition, Usage } from '@agentrix/core';
import type OpenAI from 'openai';

type ChatParams = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type Message = OpenAI.Chat.ChatCompletionMessageParam;

/** Converts core messages to the chat completions wire format. */
export function toOpenAIMessages(messages: readonly ChatMessage[]): Message[] {
  const out: Message[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        out.push({ role: 'system', content: message.content });
        break;
      case 'user':
        out.push(
          message.name
            ? { role: 'user', content: message.content, name: sanitizeName(message.name) }
            : { role: 'user', content: message.content },
        );
        break;
      case 'assistant':
        if (message.toolCalls && message.toolCalls.length > 0) {
          out.push({
            role: 'assistant',
            content: message.content === '' ? null : message.content,
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: 'function' as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          });
        } else {
          out.push({ role: 'assistant', content: message.content });
        }
        break;
      case 'tool':
        out.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content });
        break;
    }
  }
  return out;
}

/** OpenAI accepts `[a-zA-Z0-9_-]{1,64}` as a participant name. */
function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
}

function toTools(tools: readonly ToolDefinition[]): OpenAI.Chat.ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

function toToolChoice(choice: ToolChoice): OpenAI.Chat.ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

/** The request body, without `stream`. `providerOptions` are spread last, untouched. */
export function toOpenAIParams(
  request: ChatRequest,
  model: string,
  maxTokensField: 'max_tokens' | 'max_completion_tokens',
): ChatParams {
  const params: ChatParams = { model, messages: toOpenAIMessages(request.messages) };
  if (request.tools && request.tools.length > 0) params.tools = toTools(request.tools);
  if (request.toolChoice !== undefined && request.tools && request.tools.length > 0) {
    params.tool_choice = toToolChoice(request.toolChoice);
  }
  if (request.maxTokens !== undefined) params[maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.seed !== undefined) params.seed = request.seed;
  if (request.stop !== undefined && request.stop.length > 0) params.stop = request.stop;
  const format = request.responseFormat;
  if (format?.type === 'json_schema') {
    params.response_format = { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } };
  } else if (format) {
    params.response_format = { type: format.type };
  }
  if (request.providerOptions) Object.assign(params, request.providerOptions);
  return params;
}

export function toFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'tool_calls':
    case 'length':
    case 'content_filter':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

export function toUsage(usage: OpenAI.CompletionUsage | null | undefined): Usage | undefined {
  if (!usage || typeof usage.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number')
    return undefined;
  const out: Usage = { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number' && cached > 0) out.cachedInputTokens = cached;
  return out;
}
