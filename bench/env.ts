/**
 * Every limit off (0 = unlimited): in a benchmark one client on one IP plays every user, and the
 * limits would measure themselves instead of the gateway.
 */
export const NO_LIMITS = {
  RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
  RATE_LIMIT_TOKENS_PER_MINUTE: '0',
  MAX_CONCURRENT_PER_CONNECTION: '0',
  MAX_CONCURRENT_PER_USER: '0',
} as const;
