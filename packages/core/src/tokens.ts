/**
 * Tokens each chat message costs beyond its content (role and separators), as OpenAI documents
 * it: the gateway's exact count and memory's estimate both add it per message.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;
