/**
 * The in-process key of a request of a connection. A newline occurs in neither a connection id
 * nor a requestId, so the key is unambiguous, and all keys of one connection share a prefix.
 */
export function requestKey(connectionId: string, requestId: string): string {
  return `${connectionId}\n${requestId}`;
}
