export interface BackoffOptions {
  /** The first delay's ceiling, in ms (default 500). */
  readonly initialDelayMs?: number;
  /** The largest delay, in ms (default 30,000). */
  readonly maxDelayMs?: number;
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, initial · 2^attempt)). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs ?? 30_000, (options.initialDelayMs ?? 500) * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
