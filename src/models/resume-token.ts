import { createHash, randomBytes } from 'node:crypto';

/** A new resume token: 192 random bits, URL-safe. It is the capability to resume; only its hash is stored. */
export function newResumeToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Where a token's stream is kept: its SHA-256, so a leaked table never yields a usable token. */
export function streamKeyOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
