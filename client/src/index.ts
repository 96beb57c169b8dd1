/**
 * @ws-llm-gateway/client — a typed client of the LLM WebSocket gateway's wire protocol v1, for
 * browsers and Node ≥ 20, with no runtime dependencies.
 */
export { GatewayClient } from './client.js';
export type { GatewayClientOptions, RequestOptions, Status, WebSocketConstructor, WebSocketLike } from './types.js';
export { GatewayError, type ClientErrorCode } from './errors.js';
export type { ChatResult, GatewayStream, ResumeTarget, StreamEvent, StreamResult } from './request.js';
export type { Conversations } from './conversations.js';
export type { Conversation, ConversationDefaults, ConversationMessage, ConversationsPage, MessagesPage } from './conversation-pages.js';
export type { RunToolsEvent, RunToolsOptions, RunToolsResult, ToolFunction } from './run-tools.js';
export type { Attachment, UploadBody, UploadOptions } from './upload.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { smoothEvents, smoothText, type SmoothOptions } from './smooth.js';
export {
  CLIENT_ACTIONS,
  ERROR_CODES,
  type ChatData,
  type ChatMessage,
  type ContentBlock,
  type DocumentBlock,
  type ImageBlock,
  type ErrorCode,
  type ServerFrame,
  type TextBlock,
  type Tool,
  type ToolChoice,
  type ToolResultBlock,
  type ToolUse,
  type ToolUseBlock,
  type TurnKept,
  type Usage,
} from './protocol.generated.js';
