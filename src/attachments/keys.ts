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
  return `uploads/${createHash('sha256').update(owner).digest('hex').slice(0, 32)}/${attachmentId}`;
}
