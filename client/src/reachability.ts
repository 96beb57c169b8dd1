/** How long the probe may take: a host that does not answer in this time is taken as unreachable. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * Whether anything answers HTTP at the gateway's origin: a browser never tells a refused
 * handshake from a network failure (both are a bare error event and close code 1006), so before
 * a run of failed handshakes is called a refusal, this asks the host itself. A `no-cors` HEAD of
 * `https://host/` (from `wss://host/…`; no token, no credentials) resolves with an opaque
 * response whenever the host answered — API Gateway answers any path, with 403 or 404 — and
 * rejects with a TypeError when the network is down, the name does not resolve or nothing
 * listens. `undefined`: there is no way to ask (no fetch, not a ws: URL).
 *
 * A Content-Security-Policy whose `connect-src` allows the gateway's `wss:` origin but not its
 * `https:` one blocks the probe, which then reads as unreachable.
 */
export async function gatewayAnswers(url: string): Promise<boolean | undefined> {
  const scope = globalThis as { fetch?: typeof fetch; navigator?: { onLine?: boolean } };
  // The browser knows it has no network at all: no need to ask.
  if (scope.navigator?.onLine === false) return false;
  if (scope.fetch === undefined) return undefined;
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'wss:' && parsed.protocol !== 'ws:') return undefined;
    origin = `${parsed.protocol === 'wss:' ? 'https:' : 'http:'}//${parsed.host}/`;
  } catch {
    return undefined;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  try {
    await scope.fetch(origin, { method: 'HEAD', mode: 'no-cors', cache: 'no-store', credentials: 'omit', signal: controller.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
