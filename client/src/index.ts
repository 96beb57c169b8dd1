/**
 * @ws-llm-gateway/client — a typed client of the LLM WebSocket gateway's wire protocol v1, for
 * browsers and Node ≥ 20, with no runtime dependencies.
 */
export { GatewayClient } from './client.js';
export type { GatewayClientOptions, RequestOptions, Status, WebSocketConstructor, WebSocketLike } from './types.js';
export { GatewayError, type ClientErrorCode } from './errors.js';
export type { ChatResult, GatewayStream, StreamResult } from './request.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { CLIENT_ACTIONS, ERROR_CODES, type ChatData, type ErrorCode, type ServerFrame, type Usage } from './protocol.generated.js';
