/**
 * Counts the tokens of a text. Memory does not depend on a tokenizer: pass the gateway's
 * `countTextTokens` for exact counts, or keep the default estimate.
 */
export type TokenCounter = (text: string) => number;

/**
 * The default estimate: one token per 4 characters, rounded up. English prose with the o200k
 * encoding is 4 to 4.5 characters a token, so this errs on the side of more tokens.
 */
export const estimateTokens: TokenCounter = (text) => (text.length === 0 ? 0 : Math.ceil(text.length / 4));
