import type { ChatRequest, ChatStreamPart } from '@agentrix/core';
import { type GatewayCall, type GatewayContext, partialUsageOf } from './call.js';

/**
 * The innermost step: sends the call to its model's provider with the model and output cap the
 * layers chose (the cap is always sent, so no answer can outgrow its reservation), and notes
 * the output as it passes, and the usage a failed answer reports, so it can still be charged.
 */
export function providerStep(context: GatewayContext) {
  return async function* provider(call: GatewayCall): AsyncGenerator<ChatStreamPart, void, undefined> {
    const chatModel = context.providers[call.info.provider ?? 'default']!;
    const { tier: _tier, scope: _scope, ...rest } = call.request;
    const request: ChatRequest = { ...rest, model: call.model, maxTokens: call.maxOutputTokens };
    call.sent = true;
    try {
      if (!call.stream) {
        const response = await chatModel.generate(request);
        call.response = response;
        yield { type: 'finish', response };
        return;
      }
      for await (const part of chatModel.stream(request)) {
        if (part.type === 'text-delta') call.outputText += part.text;
        else if (part.type === 'tool-call-delta') call.outputText += part.argumentsDelta;
        else call.response = part.response;
        yield part;
      }
    } catch (error) {
      // An answer that came but could not be read is billed: keep what the provider says it used.
      const usage = partialUsageOf(error);
      if (usage) call.partialUsage = usage;
      throw error;
    }
  };
}
