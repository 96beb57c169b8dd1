import type { RequestStore } from '../stores/request-store';
import type { Logger } from '../utils/logger';

/**
 * Polls the shared cancel flag of one request, so a cancel handled by another invocation (the
 * route function) stops a generation running here within one interval. Returns the function
 * that stops the watch; it also stops by itself once the signal has aborted.
 */
export function watchCancel(
  requests: RequestStore,
  target: { readonly connectionId: string; readonly requestId: string },
  intervalMs: number,
  controller: AbortController,
  cancelled: () => unknown,
  log: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      if (await requests.isCancelled(target.connectionId, target.requestId)) controller.abort(cancelled());
    } catch (error) {
      log.warn({ err: error }, 'cancel flag check failed');
    }
    if (!stopped && !controller.signal.aborted) timer = setTimeout(() => void tick(), intervalMs);
  };
  if (intervalMs > 0) timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
