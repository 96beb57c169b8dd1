/**
 * The HS256 key of the $connect authorizer, read from Secrets Manager instead of the function's
 * configuration: fetched at cold start, kept for `ttlMs`, and fetched again once when a token's
 * signature fails (no more often than every `refreshFloorMs`), so a rotated secret is picked up
 * without a redeploy — tokens signed with the new key pass at once, the old key stops working
 * within the TTL. A failed fetch is not cached. The key is never logged.
 */
export interface JwtKeySource {
  get(): Promise<Uint8Array>;
  /** Fetches again unless it did so less than `refreshFloorMs` ago; resolves whether the key changed. */
  refresh(): Promise<boolean>;
}

export interface RotatingKeyOptions {
  readonly ttlMs: number;
  readonly refreshFloorMs?: number;
  readonly now?: () => number;
}

/** The shortest HS256 key the authorizer takes (shorter than the hash is weak). */
const MIN_KEY_BYTES = 32;

/** A SecretString that is the key itself, or JSON holding it as `secret` or `key`. */
function keyIn(secret: string): string {
  const text = secret.trim();
  let key = text;
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const value = parsed['secret'] ?? parsed['key'];
    key = typeof value === 'string' ? value : '';
  }
  if (Buffer.byteLength(key) < MIN_KEY_BYTES) throw new Error(`the secret holds no HS256 key of ${MIN_KEY_BYTES} bytes or more (the key itself, or JSON with "secret")`);
  return key;
}

export function rotatingKey(read: () => Promise<string>, options: RotatingKeyOptions): JwtKeySource {
  const now = options.now ?? Date.now;
  const floor = options.refreshFloorMs ?? 10_000;
  let current: { key: Uint8Array; text: string; fetchedAt: number } | undefined;
  let pending: Promise<Uint8Array> | undefined;
  const fetchKey = (): Promise<Uint8Array> => {
    pending ??= read()
      .then((secret) => {
        const text = keyIn(secret);
        current = { key: new TextEncoder().encode(text), text, fetchedAt: now() };
        return current.key;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  // At cold start, not at the first handshake; a failure here is reported by the first `get`.
  fetchKey().catch(() => undefined);
  return {
    get: () => (current !== undefined && now() - current.fetchedAt < options.ttlMs ? Promise.resolve(current.key) : fetchKey()),
    refresh: async () => {
      if (current !== undefined && now() - current.fetchedAt < floor) return false;
      const before = current?.text;
      await fetchKey();
      return current?.text !== before;
    },
  };
}
