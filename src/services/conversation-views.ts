import type { ConversationMeta, StoredMessage } from '../stores/conversation-store';
import type { ConversationView, MessageView } from '../models/server-frames';
import { messageIdOf } from '../models/conversation-id';

/** A conversation as clients see it: dates in ISO 8601, the running answer by its request id only. */
export function conversationView(meta: ConversationMeta, nowMs: number): ConversationView {
  const running = meta.running !== undefined && meta.running.until > nowMs ? meta.running : undefined;
  return {
    conversationId: meta.conversationId,
    title: meta.title,
    createdAt: new Date(meta.createdAt).toISOString(),
    updatedAt: new Date(meta.updatedAt).toISOString(),
    messageCount: meta.messageCount,
    ...(meta.lastModelId !== undefined ? { lastModelId: meta.lastModelId } : {}),
    ...(running !== undefined ? { running: { requestId: running.requestId } } : {}),
  };
}

/** A stored message as clients see it. */
export function messageView(message: StoredMessage): MessageView {
  return {
    messageId: messageIdOf(message.index),
    role: message.role,
    content: typeof message.content === 'string' ? message.content : [...message.content],
    createdAt: new Date(message.createdAt).toISOString(),
    requestId: message.requestId,
    ...(message.status !== undefined ? { status: message.status } : {}),
    ...(message.usage !== undefined ? { usage: message.usage } : {}),
    ...(message.modelId !== undefined ? { modelId: message.modelId } : {}),
    ...(message.stopReason !== undefined ? { stopReason: message.stopReason } : {}),
  };
}
