import { randomBytes } from 'node:crypto';

/**
 * Identifiers shaped like API Gateway's. Connection ids are 11 random bytes in standard base64
 * (e.g. `Jx3f1dHgIAMCLIg=`), so they can contain `/` and `+`: clients of the @connections API
 * must URL-encode them, as in AWS.
 */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

/** requestId / extendedRequestId / messageId: the same 16-character shape. */
export function newRequestId(): string {
  return randomBytes(11).toString('base64');
}

/** A 10-character lower-case api id, like `a1b2c3d4e5`. */
export function newApiId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `22/Nov/2026:14:06:00 +0000`, API Gateway's requestTime format. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}
