/**
 * A Map whose entries expire, like DynamoDB items with a TTL attribute: expired entries read as
 * absent and are swept now and then so a long-running local server does not grow forever.
 */
export class TtlMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAtMs: number }>();
  private writesSinceSweep = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sweepEvery = 1000,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAtMs: number): void {
    this.entries.set(key, { value, expiresAtMs });
    if (++this.writesSinceSweep >= this.sweepEvery) this.sweep();
  }

  /** The expiry (epoch ms) of a live entry. */
  expiresAt(key: string): number | undefined {
    return this.get(key) === undefined ? undefined : this.entries.get(key)?.expiresAtMs;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Live keys starting with a prefix (a Query on the partition key, in DynamoDB terms). */
  keysWithPrefix(prefix: string): string[] {
    const now = this.now();
    return [...this.entries].filter(([key, e]) => key.startsWith(prefix) && e.expiresAtMs > now).map(([key]) => key);
  }

  /** Live values, for small scans (local development only). */
  values(): V[] {
    const now = this.now();
    return [...this.entries.values()].filter((e) => e.expiresAtMs > now).map((e) => e.value);
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    this.writesSinceSweep = 0;
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAtMs <= now) this.entries.delete(key);
  }
}
