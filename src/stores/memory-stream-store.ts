import type { ServerFrame } from '../models/server-frames';
import { TtlMap } from './memory-ttl-map';
import type { Claim, LoggedFrame, StreamMeta, StreamStore } from './stream-store';

/** What the memory store keeps of a stream: its meta and its job's claim. */
interface Entry {
  readonly meta: StreamMeta;
  readonly state: 'queued' | 'running';
  readonly leaseUntilMs: number;
}

/** The in-memory StreamStore: one process, atomic because Node runs one callback at a time. */
export class MemoryStreamStore implements StreamStore {
  private readonly entries: TtlMap<Entry>;
  private readonly logs: TtlMap<Map<number, ServerFrame>>;

  constructor(private readonly now: () => number = Date.now) {
    this.entries = new TtlMap(now);
    this.logs = new TtlMap(now);
  }

  open(key: string, meta: Pick<StreamMeta, 'requestId' | 'jobId' | 'userId' | 'mode' | 'target'>, ttlSeconds: number): Promise<void> {
    const full: StreamMeta = { ...meta, targets: [meta.target], version: 0, fromSeq: 0, cancelled: false, terminal: undefined };
    this.entries.set(key, { meta: full, state: 'queued', leaseUntilMs: 0 }, this.now() + ttlSeconds * 1000);
    return Promise.resolve();
  }

  get(key: string): Promise<StreamMeta | undefined> {
    return Promise.resolve(this.entries.get(key)?.meta);
  }

  retarget(key: string, connectionId: string, fromSeq: number): ReturnType<StreamStore['retarget']> {
    const meta = this.entries.get(key)?.meta;
    if (meta === undefined) return Promise.resolve({ outcome: 'unknown' });
    if (meta.terminal !== undefined) return Promise.resolve({ outcome: 'ended', meta });
    // One entry per resume, as DynamoDB's list_append keeps them: version v went to targets[v].
    const moved: StreamMeta = { ...meta, target: connectionId, targets: [...meta.targets, connectionId], version: meta.version + 1, fromSeq };
    this.update(key, { meta: moved });
    return Promise.resolve({ outcome: 'moved', meta: moved });
  }

  append(key: string, frames: readonly LoggedFrame[], ttlSeconds: number): Promise<void> {
    const log = this.logs.get(key) ?? new Map<number, ServerFrame>();
    for (const { index, frame } of frames) log.set(index, frame);
    this.logs.set(key, log, this.now() + ttlSeconds * 1000);
    return Promise.resolve();
  }

  replay(key: string, from: number): Promise<ServerFrame[]> {
    const log = this.logs.get(key) ?? new Map<number, ServerFrame>();
    return Promise.resolve([...log.entries()].filter(([index]) => index >= from).sort(([a], [b]) => a - b).map(([, frame]) => frame));
  }

  end(key: string, terminal: ServerFrame, version: number, retentionSeconds: number): Promise<boolean> {
    const entry = this.entries.get(key);
    if (entry === undefined) return Promise.resolve(true);
    if (entry.meta.version !== version) return Promise.resolve(false);
    const expiresAtMs = this.now() + retentionSeconds * 1000;
    this.entries.set(key, { ...entry, meta: { ...entry.meta, terminal } }, expiresAtMs);
    const log = this.logs.get(key);
    if (log) this.logs.set(key, log, expiresAtMs);
    return Promise.resolve(true);
  }

  claim(key: string, jobId: string, leaseUntilMs: number): Promise<Claim> {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.meta.jobId !== jobId || entry.meta.terminal !== undefined) return Promise.resolve({ outcome: 'duplicate' });
    if (entry.state === 'queued') {
      this.update(key, { state: 'running', leaseUntilMs });
      return Promise.resolve({ outcome: 'claimed', meta: entry.meta });
    }
    if (entry.leaseUntilMs > this.now()) return Promise.resolve({ outcome: 'duplicate' });
    this.update(key, { leaseUntilMs });
    return Promise.resolve({ outcome: 'interrupted' });
  }

  cancel(key: string, connectionId?: string): Promise<StreamMeta | undefined> {
    const meta = this.entries.get(key)?.meta;
    if (meta === undefined || meta.terminal !== undefined) return Promise.resolve(undefined);
    if (connectionId !== undefined && meta.target !== connectionId) return Promise.resolve(undefined);
    this.update(key, { meta: { ...meta, cancelled: true } });
    return Promise.resolve(meta);
  }

  /** Live (unexpired) streams, for tests. */
  get size(): number {
    return this.entries.values().length;
  }

  private update(key: string, change: Partial<Entry>): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.entries.set(key, { ...entry, ...change }, this.entries.expiresAt(key) ?? 0);
  }
}
