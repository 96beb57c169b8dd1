import { randomBytes } from 'node:crypto';

/**
 * Identifiers shaped like API Gateway's. Connection ids are 11 random bytes in standard base64
 * (e.g. `Jx3f1dHgIAMCLIg=`), so they can contain `/` and `+`: clients of the @connections API
 * must URL-encode them, as in AWS.
 */
export function newConnectionId(): string {
  return random11().toString('base64');
}

/** requestId / extendedRequestId / messageId: the same 16-character shape. */
export function newRequestId(): string {
  return random11().toString('base64');
}

// Every event needs two or three ids; one `randomBytes` call each was 5% of the emulator's CPU in
// a burst. Drawing them from a pool refilled 256 ids at a time is what `randomUUID` does inside.
const ID_BYTES = 11;
let pool = Buffer.alloc(0);
let offset = 0;

function random11(): Buffer {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * 256);
    offset = 0;
  }
  offset += ID_BYTES;
  return pool.subarray(offset - ID_BYTES, offset);
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
