/**
 * How long a provider asks us to wait before retrying, from its response headers:
 * `retry-after-ms` (OpenAI's), else `Retry-After` in seconds or as an HTTP date; 1 s when the
 * headers say nothing usable. `header` reads one header by its lower-case name.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now = Date.now()): number {
  const ms = Number(header('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms);
  const after = header('retry-after');
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds > 0) return Math.ceil(seconds * 1000);
    const at = Date.parse(after);
    if (Number.isFinite(at) && at > now) return at - now;
  }
  return 1000;
}
