import type { ContentBlock } from '../protocol.generated.js';

/**
 * How long an upload is referred to again: the gateway deletes attachments a day or more after
 * their upload (its AttachmentRetentionDays, at least 1), so half a day is always inside it.
 */
const MAX_AGE_MS = 12 * 60 * 60_000;
/** Enough for a long conversation's files; the oldest used goes first past it. */
const MAX_ENTRIES = 64;

interface Entry {
  readonly block: Promise<ContentBlock>;
  readonly at: number;
  /** Once the upload is done: the attachment it made. */
  attachmentId?: string;
}

/**
 * The files this transport uploaded, by what they are (media type, name and the SHA-256 of
 * their bytes): `useChat` sends every earlier turn again with each message, files included, and
 * a file uploaded for one turn must be referred to by its `attachmentId` in the later ones, not
 * uploaded again on every send. Keyed by content, not by the part object, so a conversation
 * restored from storage (new objects, the same data URLs) still finds them. A failed upload is
 * not kept, and `forget` drops an attachment the gateway no longer knows.
 */
export class UploadedFiles {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The block of this file (its bytes, and the data URL they came from): the one uploaded
   * before, else `upload()`'s.
   */
  async block(file: { readonly bytes: Uint8Array; readonly url: string; readonly mediaType: string; readonly name: string | undefined }, upload: () => Promise<ContentBlock>): Promise<ContentBlock> {
    const key = `${file.mediaType}\u0000${file.name ?? ''}\u0000${await digest(file.bytes, file.url)}`;
    const known = this.entries.get(key);
    if (known !== undefined && this.now() - known.at < MAX_AGE_MS) {
      // Most recently used last, so the oldest unused goes first.
      this.entries.delete(key);
      this.entries.set(key, known);
      return known.block;
    }
    const entry: Entry = { block: upload(), at: this.now() };
    this.entries.set(key, entry);
    entry.block.then(
      (block) => {
        if ('attachmentId' in block) entry.attachmentId = block.attachmentId;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(oldest);
    }
    return entry.block;
  }

  /** Drops the uploads of these attachments (a request that carried them was refused). */
  forget(attachmentIds: ReadonlySet<string>): void {
    for (const [key, entry] of [...this.entries]) if (entry.attachmentId !== undefined && attachmentIds.has(entry.attachmentId)) this.entries.delete(key);
  }
}

/**
 * The bytes' SHA-256 in hex: a short key for a file of megabytes. Where there is no Web Crypto
 * (a page over plain http, not from localhost, is no secure context) the data URL itself is the
 * key — exact, only larger to keep.
 */
async function digest(bytes: Uint8Array, url: string): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) return url;
  const hash = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
