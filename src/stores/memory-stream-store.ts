import type { ServerFrame } from '../models/server-frames';
import { TtlMap } from './memory-ttl-map';
import type { StreamMeta, StreamStore } from './stream-store';

/** The in-memory StreamStore: one process, atomic because Node runs one callback at a time. */
export class MemoryStreamStore implements StreamStore {
  private readonly metas: TtlMap<StreamMeta>;
  private readonly logs: TtlMap<Map<number, ServerFrame>>;

  constructor(private readonly now: () => number = Date.now) {
    this.metas = new TtlMap(now);
    this.logs = new TtlMap(now);
  }

  open(key: string, meta: Pick<StreamMeta, 'requestId' | 'jobId' | 'userId' | 'mode' | 'target'>, ttlSeconds: number): Promise<void> {
    const full: StreamMeta = { ...meta, targets: [meta.target], version: 0, fromSeq: 0, cancelled: false, terminal: undefined };
    this.metas.set(key, full, this.now() + ttlSeconds * 1000);
    return Promise.resolve();
  }

  get(key: string): Promise<StreamMeta | undefined> {
    return Promise.resolve(this.metas.get(key));
  }

  retarget(key: string, connectionId: string, fromSeq: number): ReturnType<StreamStore['retarget']> {
    const meta = this.metas.get(key);
    if (meta === undefined) return Promise.resolve({ outcome: 'unknown' });
    if (meta.terminal !== undefined) return Promise.resolve({ outcome: 'ended', meta });
    const targets = meta.targets.includes(connectionId) ? meta.targets : [...meta.targets, connectionId];
    const moved: StreamMeta = { ...meta, target: connectionId, targets, version: meta.version + 1, fromSeq };
    this.metas.set(key, moved, this.metas.expiresAt(key) ?? 0);
    return Promise.resolve({ outcome: 'moved', meta: moved });
  }

  append(key: string, index: number, frame: ServerFrame, ttlSeconds: number): Promise<void> {
    const log = this.logs.get(key) ?? new Map<number, ServerFrame>();
    log.set(index, frame);
    this.logs.set(key, log, this.now() + ttlSeconds * 1000);
    return Promise.resolve();
  }

  replay(key: string, from: number): Promise<ServerFrame[]> {
    const log = this.logs.get(key) ?? new Map<number, ServerFrame>();
    return Promise.resolve([...log.entries()].filter(([index]) => index >= from).sort(([a], [b]) => a - b).map(([, frame]) => frame));
  }

  end(key: string, terminal: ServerFrame, version: number, retentionSeconds: number): Promise<boolean> {
    const meta = this.metas.get(key);
    if (meta === undefined) return Promise.resolve(true);
    if (meta.version !== version) return Promise.resolve(false);
    const expiresAtMs = this.now() + retentionSeconds * 1000;
    this.metas.set(key, { ...meta, terminal }, expiresAtMs);
    const log = this.logs.get(key);
    if (log) this.logs.set(key, log, expiresAtMs);
    return Promise.resolve(true);
  }

  cancel(key: string): Promise<void> {
    const meta = this.metas.get(key);
    if (meta !== undefined && meta.terminal === undefined) this.metas.set(key, { ...meta, cancelled: true }, this.metas.expiresAt(key) ?? 0);
    return Promise.resolve();
  }

  /** Live (unexpired) streams, for tests. */
  get size(): number {
    return this.metas.values().length;
  }
}
