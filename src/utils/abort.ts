/**
 * An AbortController that also aborts, with the same reason, when `parent` does. `release()`
 * detaches it, so long-lived parent signals do not collect listeners.
 */
export function linkedController(parent: AbortSignal): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  const forward = (): void => controller.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener('abort', forward, { once: true });
  return { controller, release: () => parent.removeEventListener('abort', forward) };
}
