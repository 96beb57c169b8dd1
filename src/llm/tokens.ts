/**
 * A rough token count (about four characters per token, at least one): used for usage when a
 * provider reports none, by the mock model, and to reserve a token budget before a call.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
