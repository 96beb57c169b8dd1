import type { ConnectionRecord } from '../models/connection';
import type { ConnectionStore } from '../stores/connection-store';
import type { CounterStore } from '../stores/counter-store';
import type { RequestStore } from '../stores/request-store';
import type { StreamStore } from '../stores/stream-store';
import type { WsRequestContext } from '../utils/lambda';
import type { ActiveGenerations } from './active-generations';
import { ConnectionGoneError } from '../utils/websocket';
import { GatewayError } from '../models/errors';
import { slotSetsOf } from './rate-limit';

export interface ConnectionServiceDeps {
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly streams: StreamStore;
  readonly counters: CounterStore;
  readonly active: ActiveGenerations;
  readonly connectionTtlSeconds: number;
  /** Cap on open connections of one authenticated user; 0 = none. */
  readonly connectionsPerUser: number;
  /** Answers in flight per connection and per user (0 = no limit): their slot sets are made with the connection. */
  readonly concurrentPerConnection: number;
  readonly concurrentPerUser: number;
  /** With a grace time, a departed client's answers go on, waiting for a resume (see StreamTarget). */
  readonly resumeGraceSeconds: number;
  readonly now?: () => number;
}

/** The slots key of a user's open connections (one slot per connection id). */
function connectionSlots(userId: string): string {
  return `conns:user:${userId}`;
}

/** The connection lifecycle: remember a connection on $connect, forget it on $disconnect. */
export class ConnectionService {
  constructor(private readonly deps: ConnectionServiceDeps) {}

  /**
   * Records a new connection. A user at the connection cap is refused with a GatewayError
   * (`rate_limited`); a store failure propagates. Either way the handshake fails. The cap is a
   * slot per connection, taken atomically, so parallel handshakes cannot pass it together; a
   * slot whose `$disconnect` never came frees itself when the connection's TTL passes.
   */
  async open(context: WsRequestContext): Promise<ConnectionRecord> {
    const now = this.deps.now?.() ?? Date.now();
    const userId = typeof context.authorizer?.['userId'] === 'string' ? context.authorizer['userId'] : undefined;
    const ttl = Math.floor(now / 1000) + this.deps.connectionTtlSeconds;
    const cap = this.deps.connectionsPerUser;
    const capped = userId !== undefined && cap > 0;
    if (capped && !(await this.deps.counters.acquireSlot(connectionSlots(userId), context.connectionId, cap, ttl)).taken) {
      throw new GatewayError('rate_limited', `At most ${cap} connections per user.`, { retryable: true });
    }
    const { sourceIp, userAgent } = context.identity ?? {};
    const record: ConnectionRecord = {
      connectionId: context.connectionId,
      connectedAt: context.connectedAt,
      ...(userId !== undefined ? { userId } : {}),
      sourceIp: sourceIp ?? 'unknown',
      ...(userAgent !== undefined ? { userAgent } : {}),
      domainName: context.domainName,
      stage: context.stage,
      ttl,
    };
    try {
      // So the connection's first request takes its slots in one write each (the user's set may
      // exist already: then nothing changes); only an optimisation, so a failure is ignored.
      const slotSets = slotSetsOf({ connectionId: context.connectionId, userId, sourceIp: sourceIp ?? 'unknown' }, this.deps);
      await Promise.all([this.deps.connections.put(record), ...slotSets.map(({ key }) => this.deps.counters.openSlots(key, ttl).catch(() => undefined))]);
    } catch (error) {
      if (capped) await this.deps.counters.releaseSlot(connectionSlots(userId), context.connectionId).catch(() => undefined);
      throw error;
    }
    return record;
  }

  /**
   * Forgets a connection. Without a resume grace time its answers stop: the stream of each request
   * it holds is flagged (reaching workers in other invocations) and one running in this process
   * stops at once — unless the request was resumed on another connection since, which now holds
   * it. With a grace time they go on, so the client may resume them elsewhere; the worker stops
   * one when its grace time ends.
   */
  async close(connectionId: string, userId: string | undefined): Promise<void> {
    const stop = this.deps.resumeGraceSeconds === 0;
    const results = await Promise.allSettled([
      this.deps.connections.delete(connectionId),
      stop ? this.stopAnswers(connectionId) : Promise.resolve(),
      userId !== undefined ? this.deps.counters.releaseSlot(connectionSlots(userId), connectionId) : Promise.resolve(),
    ]);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async stopAnswers(connectionId: string): Promise<void> {
    const held = await this.deps.requests.heldBy(connectionId);
    await Promise.all(
      held.map(async ({ requestId, streamKey }) => {
        const stopped = streamKey === undefined ? undefined : await this.deps.streams.cancel(streamKey, connectionId);
        if (stopped !== undefined) this.deps.active.abort(stopped.targets[0] ?? connectionId, requestId, new ConnectionGoneError(connectionId));
      }),
    );
  }
}
