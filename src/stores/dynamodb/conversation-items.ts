import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ConversationMeta, ConversationRun } from '../conversation-store';

/**
 * The conversation store's items in the one table (docs/DYNAMODB.md): their keys, how a value is
 * packed (JSON, raw-deflated) and a large message body split, and a conversation item read back.
 */

/** A message's content, deflated, is kept in its own item up to this; larger, it is split into part items. */
export const MAX_BODY_BYTES = 300 * 1024;

export const ownerKey = (owner: string, conversationId: string) => ({ pk: `OWNER#${owner}`, sk: `CONV#${conversationId}` });
export const messagesPk = (conversationId: string): string => `CONV#${conversationId}`;
export const messageSk = (index: number): string => `MSG#${String(index).padStart(9, '0')}`;
export const partSk = (index: number, part: number): string => `PART#${String(index).padStart(9, '0')}#${String(part).padStart(4, '0')}`;

export const pack = (value: unknown): Uint8Array => deflateRawSync(JSON.stringify(value));
export const unpack = <T>(bytes: unknown): T => JSON.parse(inflateRawSync(bytes as Uint8Array).toString('utf8')) as T;

export function metaOf(item: Record<string, unknown>): ConversationMeta {
  return {
    conversationId: String(item['sk']).slice('CONV#'.length),
    owner: String(item['pk']).slice('OWNER#'.length),
    title: typeof item['title'] === 'string' ? item['title'] : '',
    createdAt: Number(item['createdAt']),
    updatedAt: Number(item['updatedAt']),
    messageCount: Number(item['messageCount'] ?? 0),
    nextIndex: Number(item['nextIndex'] ?? 0),
    lastModelId: typeof item['lastModelId'] === 'string' ? item['lastModelId'] : undefined,
    defaults: item['defaults'] === undefined ? {} : unpack(item['defaults']),
    historyTokens: Number(item['historyTokens'] ?? 0),
    pendingToolUseIds: Array.isArray(item['pendingToolUseIds']) ? item['pendingToolUseIds'].map(String) : [],
    running: item['running'] === undefined ? undefined : (item['running'] as ConversationRun),
    bytes: Number(item['bytes'] ?? 0),
  };
}

/** A deflated body in part items of MAX_BODY_BYTES (none when it fits its message item). */
export function bodyParts(body: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; body.length > MAX_BODY_BYTES && at < body.length; at += MAX_BODY_BYTES) parts.push(body.subarray(at, at + MAX_BODY_BYTES));
  return parts;
}
