/**
 * @ws-llm-gateway/client/ai-sdk — the AI SDK's ChatTransport over the gateway, for `useChat`
 * (and assistant-ui's `useChatRuntime`). Nothing here imports `ai`: the shapes are structural.
 */
export { GatewayChatTransport, type GatewayChatTransportOptions, type SendOptions } from './transport.js';
export { ChunkWriter, type Chunk, type GatewayMessageMetadata } from './chunks.js';
export { toConversationTurn, toGatewayRequest, type UiMessage, type UiPart } from './messages.js';
export { ATTACHMENT_URL_PREFIX, loadMessages, toUiMessages, type LoadedMessage, type LoadedMessageMetadata, type LoadedPart } from './conversation-messages.js';
export type { ResumableStorage } from './running-answers.js';
export { defaultResumeStore, type InFlight, type ResumeStore } from './resume-store.js';
