import type { GatewayContext, Layer } from './call.js';
import { fitPrompt } from './prompt-budget.js';

/** The prompt budget layer: fits the prompt into the model's context window minus its output cap. */
export function promptBudgetLayer(context: GatewayContext): Layer {
  const { events } = context;
  return async function* promptBudget(call, next) {
    const budget = call.info.contextWindow - call.maxOutputTokens;
    if (call.promptTokens > budget) {
      const fitted = await fitPrompt({
        messages: call.request.messages,
        tools: call.request.tools,
        budget,
        compact: context.compact,
        model: call.model,
        signal: call.request.signal,
      });
      if (fitted.dropped > 0) {
        call.request = { ...call.request, messages: fitted.messages };
        if (events.has('prompt.trimmed')) {
          events.emit('prompt.trimmed', {
            callId: call.id,
            model: call.model,
            droppedMessages: fitted.dropped,
            tokensBefore: fitted.tokensBefore,
            tokensAfter: fitted.tokensAfter,
          });
        }
      }
    }
    yield* next(call);
  };
}
