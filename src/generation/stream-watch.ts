import type { StreamMeta, StreamStore } from '../stores/stream-store';
import type { Logger } from '../utils/logger';

/**
 * Polls a generation's stream, so what another invocation (the route function) records reaches
 * the worker within about one interval: a cancel, or a resume on another connection. One
 * eventually consistent read per interval. Returns the function that stops the watch; it also stops by
 * itself once the signal has aborted.
 */
export function watchStream(
  streams: StreamStore,
  key: string,
  intervalMs: number,
  signal: AbortSignal,
  onChange: (meta: StreamMeta) => Promise<void>,
  log: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      // Eventually consistent, at half a strongly consistent read's cost: a write the read misses
      // (DynamoDB converges within about a second) is seen by the next one.
      const meta = await streams.get(key, { consistent: false });
      if (meta !== undefined && !stopped) await onChange(meta);
    } catch (error) {
      log.warn({ err: error }, 'stream check failed');
    }
    if (!stopped && !signal.aborted) timer = setTimeout(() => void tick(), intervalMs);
  };
  if (intervalMs > 0) timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
