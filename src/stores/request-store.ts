/**
 * Shared state of running generations, keyed by (connectionId, requestId). Keying by the
 * connection is what keeps one client from touching another client's requests. Because the
 * state is shared, a cancel received by one Lambda invocation reaches a generation running in
 * another: the generation polls `isCancelled`.
 */
export interface RequestStore {
  /** Records a new running request. Returns false if this connection already runs that requestId. */
  begin(connectionId: string, requestId: string, ttlSeconds: number): Promise<boolean>;
  /** Sets the cancel flag. Returns false if no such request is running on this connection. */
  requestCancel(connectionId: string, requestId: string): Promise<boolean>;
  /** Sets the cancel flag on every running request of a connection (used on $disconnect). */
  cancelAll(connectionId: string): Promise<void>;
  isCancelled(connectionId: string, requestId: string): Promise<boolean>;
  /** Removes the record once the generation has ended, however it ended. */
  end(connectionId: string, requestId: string): Promise<void>;
}
