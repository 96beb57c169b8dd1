import { randomBytes } from 'node:crypto';

/**
 * A new conversation's id: `c_`, its creation time (milliseconds in 9 base-36 digits, so ids sort
 * as they were made and a listing newest first is one sorted read) and 96 random bits (so no one
 * guesses another's).
 */
export function newConversationId(nowMs = Date.now()): string {
  return `c_${nowMs.toString(36).padStart(9, '0')}${randomBytes(12).toString('base64url')}`;
}

/** A message's id as clients see it, from its index, and back. */
export const messageIdOf = (index: number): string => `m${index}`;
export const indexOfMessageId = (messageId: string): number => Number(messageId.slice(1));
