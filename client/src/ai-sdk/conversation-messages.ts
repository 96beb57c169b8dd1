import type { GatewayClient } from '../client.js';
import type { ConversationMessage } from '../conversation-pages.js';
import type { ContentBlock, Usage } from '../protocol.generated.js';

/**
 * The UI message parts `loadMessages` gives, typed as the AI SDK's own (`TextUIPart`,
 * `FileUIPart`, `StepStartUIPart`, `ToolUIPart`), so `useChat({ messages })` takes them as they are.
 */
export type LoadedPart =
  | { type: 'step-start' }
  | { type: 'text'; text: string; state: 'done' }
  | { type: 'file'; mediaType: string; url: string; filename?: string }
  | { type: `tool-${string}`; toolCallId: string; state: 'input-available'; input: unknown }
  | { type: `tool-${string}`; toolCallId: string; state: 'output-available'; input: unknown; output: unknown }
  | { type: `tool-${string}`; toolCallId: string; state: 'output-error'; input: unknown; errorText: string };

/** What an assistant message loaded from the gateway carries as `metadata`: its last answer's. */
export interface LoadedMessageMetadata {
  /** The id the gateway keeps it under (the first answer's, for a message of several tool steps). */
  readonly messageId: string;
  readonly requestId: string;
  readonly status?: ConversationMessage['status'];
  readonly modelId?: string;
  readonly stopReason?: string;
  readonly usage?: Usage;
}

/** A UI message (the AI SDK's `UIMessage`, structurally) as `loadMessages` gives it. */
export interface LoadedMessage {
  /** The gateway's message id (`m0`, `m1`…): what an edit (`sendMessage({ messageId })`) names. */
  id: string;
  role: 'user' | 'assistant';
  parts: LoadedPart[];
  metadata?: LoadedMessageMetadata;
}

/** Prefix of a file part's `url` for an uploaded attachment: the gateway gives no way to read it back. */
export const ATTACHMENT_URL_PREFIX = 'gateway-attachment:';

const blocksOf = (content: ConversationMessage['content']): ContentBlock[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : content);
const resultText = (content: Extract<ContentBlock, { type: 'tool_result' }>['content']): string => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));

function filePart(block: Extract<ContentBlock, { type: 'image' | 'document' }>): LoadedPart {
  if (block.type === 'image' && block.data !== undefined) return { type: 'file', mediaType: block.mediaType ?? 'image/png', url: `data:${block.mediaType ?? 'image/png'};base64,${block.data}` };
  const url = `${ATTACHMENT_URL_PREFIX}${block.attachmentId ?? ''}`;
  if (block.type === 'image') return { type: 'file', mediaType: block.mediaType ?? 'image/*', url };
  return { type: 'file', mediaType: 'application/octet-stream', url, ...(block.name !== undefined ? { filename: block.name } : {}) };
}

/**
 * A conversation's messages as the AI SDK's UI messages, shaped as the transport streams them
 * (and as `toGatewayRequest` reads them back): text parts; files as file parts (an inline image
 * as its data URL, an uploaded attachment as `gateway-attachment:<attachmentId>`); an answer's
 * calls as `tool-<name>` parts, `output-available` (or `output-error`) with the result the next
 * user message gave, and the answer after those results continuing the same UI message as its
 * next step (each step opened by `step-start`). A user message of tool results alone is no UI
 * message of its own. Each message's id is the gateway's (`m0`…; a message of several steps
 * takes its first answer's).
 */
export function toUiMessages(messages: readonly ConversationMessage[]): LoadedMessage[] {
  const out: LoadedMessage[] = [];
  // The UI message an answer after tool results continues (the one holding their calls).
  let continuing: LoadedMessage | undefined;
  for (const message of messages) {
    const blocks = blocksOf(message.content);
    if (message.role === 'user') {
      const results = blocks.filter((b): b is Extract<ContentBlock, { type: 'tool_result' }> => b.type === 'tool_result');
      const last = out[out.length - 1];
      if (last?.role === 'assistant') {
        for (const result of results) {
          const at = last.parts.findIndex((p) => 'toolCallId' in p && p.toolCallId === result.toolUseId);
          const call = last.parts[at];
          if (call === undefined || !('toolCallId' in call)) continue;
          const { type, toolCallId, input } = call;
          last.parts[at] = result.isError === true ? { type, toolCallId, state: 'output-error', input, errorText: resultText(result.content) } : { type, toolCallId, state: 'output-available', input, output: resultText(result.content) };
        }
      }
      const parts = blocks.flatMap((b): LoadedPart[] => (b.type === 'text' ? [{ type: 'text', text: b.text, state: 'done' }] : b.type === 'image' || b.type === 'document' ? [filePart(b)] : []));
      continuing = parts.length === 0 && results.length > 0 && last?.role === 'assistant' ? last : undefined;
      if (parts.length > 0 || results.length === 0) out.push({ id: message.messageId, role: 'user', parts });
      continue;
    }
    const parts: LoadedPart[] = [{ type: 'step-start' }];
    for (const block of blocks) {
      if (block.type === 'text') parts.push({ type: 'text', text: block.text, state: 'done' });
      else if (block.type === 'tool_use') parts.push({ type: `tool-${block.name}`, toolCallId: block.toolUseId, state: 'input-available', input: block.input });
    }
    const metadata: LoadedMessageMetadata = {
      messageId: continuing?.metadata?.messageId ?? message.messageId,
      requestId: message.requestId,
      ...(message.status !== undefined ? { status: message.status } : {}),
      ...(message.modelId !== undefined ? { modelId: message.modelId } : {}),
      ...(message.stopReason !== undefined ? { stopReason: message.stopReason } : {}),
      ...(message.usage !== undefined ? { usage: message.usage } : {}),
    };
    if (continuing !== undefined) {
      continuing.parts.push(...parts);
      continuing.metadata = metadata;
    } else {
      out.push({ id: message.messageId, role: 'assistant', parts, metadata });
    }
    continuing = undefined;
  }
  return out;
}

/**
 * A conversation kept on the gateway, every page of it, as UI messages for `useChat({ messages })`
 * (see toUiMessages) — what a page shows after a reload. `chatId` is the conversation's id; an
 * answer it is running is not among them (it is kept when it ends): `reconnectToStream` brings
 * it (`useChat({ resume: true })`).
 */
export async function loadMessages(from: GatewayClient | { readonly client: GatewayClient }, chatId: string): Promise<LoadedMessage[]> {
  const client = 'conversations' in from ? from : from.client;
  const items: ConversationMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.conversations.get(chatId, { limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return toUiMessages(items);
}
