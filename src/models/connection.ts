/** What the gateway remembers about one open WebSocket connection. */
export interface ConnectionRecord {
  readonly connectionId: string;
  /** Epoch milliseconds, from API Gateway's requestContext.connectedAt. */
  readonly connectedAt: number;
  /** The authorizer's userId when the connection was authenticated. */
  readonly userId?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly domainName: string;
  readonly stage: string;
  /** Expiry in epoch seconds (DynamoDB TTL format). */
  readonly ttl: number;
}
