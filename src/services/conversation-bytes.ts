import type { StoredMessage } from '../stores/conversation-store';

/** A per-user conversation counter never expires by itself (epoch seconds, year 2286). */
export const FOREVER = 9_999_999_999;

/** The counter of how many conversations the owner keeps. */
export const conversationCountKey = (owner: string): string => `convs:${owner}`;

/** The counter of the bytes the owner's conversations hold. */
export const conversationBytesKey = (owner: string): string => `convbytes:${owner}`;

/** What a message counts toward its owner's bytes: its content as JSON (what is stored, before compression). */
export function messageBytes(message: Pick<StoredMessage, 'content'>): number {
  return Buffer.byteLength(typeof message.content === 'string' ? message.content : JSON.stringify(message.content));
}
