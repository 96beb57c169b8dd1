import { createHash, randomBytes } from 'node:crypto';

/** A fresh attachment id: 128 random bits. */
export function newAttachmentId(): string {
  return `att_${randomBytes(16).toString('base64url')}`;
}

/**
 * Where an attachment lives: under its owner (a hash of the user, or of the source IP when
 * auth is off), so an id is only ever looked up under the caller's own prefix — another user's
 * id finds nothing, exactly like an unknown one.
 */
export function attachmentKey(owner: string, attachmentId: string): string {
  return `uploads/${ownerHash(owner)}/${attachmentId}`;
}

/**
 * Where a conversation keeps an attachment one of its messages refers to: outside `uploads/`
 * (whose objects expire after AttachmentRetentionDays), under the owner and the conversation — so
 * deleting the conversation deletes them by one prefix, and CONVERSATION_RETENTION_DAYS can
 * expire them by another.
 */
export function keptAttachmentKey(owner: string, conversationId: string, attachmentId: string): string {
  return `${keptAttachmentPrefix(owner, conversationId)}${attachmentId}`;
}

export function keptAttachmentPrefix(owner: string, conversationId: string): string {
  return `kept/${ownerHash(owner)}/${conversationId}/`;
}

function ownerHash(owner: string): string {
  return createHash('sha256').update(owner).digest('hex').slice(0, 32);
}
