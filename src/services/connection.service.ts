import type { ConnectionRecord } from '../models/connection';
import type { ConnectionStore } from '../stores/connection-store';
import type { RequestStore } from '../stores/request-store';
import type { WsRequestContext } from '../utils/lambda';
import type { ActiveGenerations } from './active-generations';
import { ConnectionGoneError } from '../utils/websocket';
import { GatewayError } from '../models/errors';

export interface ConnectionServiceDeps {
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly active: ActiveGenerations;
  readonly connectionTtlSeconds: number;
  /** Cap on open connections of one authenticated user; 0 = none. */
  readonly connectionsPerUser: number;
  readonly now?: () => number;
}

/** The connection lifecycle: remember a connection on $connect, forget it on $disconnect. */
export class ConnectionService {
  constructor(private readonly deps: ConnectionServiceDeps) {}

  /**
   * Records a new connection. A user at the connection cap is refused with a GatewayError
   * (`rate_limited`); a store failure propagates. Either way the handshake fails.
   */
  async open(context: WsRequestContext): Promise<ConnectionRecord> {
    const now = this.deps.now?.() ?? Date.now();
    const userId = context.authorizer?.['userId'];
    const cap = this.deps.connectionsPerUser;
    if (typeof userId === 'string' && cap > 0 && (await this.deps.connections.countForUser(userId)) >= cap) {
      throw new GatewayError('rate_limited', `At most ${cap} connections per user.`, { retryable: true });
    }
    const record: ConnectionRecord = {
      connectionId: context.connectionId,
      connectedAt: context.connectedAt,
      ...(typeof userId === 'string' ? { userId } : {}),
      sourceIp: context.identity.sourceIp,
      ...(context.identity.userAgent !== undefined ? { userAgent: context.identity.userAgent } : {}),
      domainName: context.domainName,
      stage: context.stage,
      ttl: Math.floor(now / 1000) + this.deps.connectionTtlSeconds,
    };
    await this.deps.connections.put(record);
    return record;
  }

  /**
   * Forgets a connection and stops its generations: those in this process at once, those in
   * other invocations through the shared cancel flag.
   */
  async close(connectionId: string): Promise<void> {
    this.deps.active.abortConnection(connectionId, new ConnectionGoneError(connectionId));
    const results = await Promise.allSettled([
      this.deps.connections.delete(connectionId),
      this.deps.requests.cancelAll(connectionId),
    ]);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
