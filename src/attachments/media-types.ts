/**
 * What may be attached: the media types the models behind the gateway read (Bedrock Converse's
 * image and document formats), each with its kind, its format name for Bedrock and its size
 * limit (Bedrock's: 3.75 MB an image, 4.5 MB a document).
 */
export type AttachmentKind = 'image' | 'document';

export interface MediaType {
  readonly kind: AttachmentKind;
  /** Bedrock's `format` for it. */
  readonly format: string;
  readonly maxBytes: number;
}

const MB = 1024 * 1024;
const IMAGE_MAX = Math.floor(3.75 * MB);
const DOCUMENT_MAX = Math.floor(4.5 * MB);

export const MEDIA_TYPES: Readonly<Record<string, MediaType>> = {
  'image/png': { kind: 'image', format: 'png', maxBytes: IMAGE_MAX },
  'image/jpeg': { kind: 'image', format: 'jpeg', maxBytes: IMAGE_MAX },
  'image/gif': { kind: 'image', format: 'gif', maxBytes: IMAGE_MAX },
  'image/webp': { kind: 'image', format: 'webp', maxBytes: IMAGE_MAX },
  'application/pdf': { kind: 'document', format: 'pdf', maxBytes: DOCUMENT_MAX },
  'text/plain': { kind: 'document', format: 'txt', maxBytes: DOCUMENT_MAX },
  'text/markdown': { kind: 'document', format: 'md', maxBytes: DOCUMENT_MAX },
  'text/csv': { kind: 'document', format: 'csv', maxBytes: DOCUMENT_MAX },
  'text/html': { kind: 'document', format: 'html', maxBytes: DOCUMENT_MAX },
  'application/msword': { kind: 'document', format: 'doc', maxBytes: DOCUMENT_MAX },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': { kind: 'document', format: 'docx', maxBytes: DOCUMENT_MAX },
  'application/vnd.ms-excel': { kind: 'document', format: 'xls', maxBytes: DOCUMENT_MAX },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { kind: 'document', format: 'xlsx', maxBytes: DOCUMENT_MAX },
};

export const IMAGE_MEDIA_TYPES = Object.keys(MEDIA_TYPES).filter((type) => MEDIA_TYPES[type]?.kind === 'image');

export function mediaTypeOf(type: string): MediaType | undefined {
  return Object.hasOwn(MEDIA_TYPES, type) ? MEDIA_TYPES[type] : undefined;
}

const startsWith = (bytes: Uint8Array, ...signature: number[]): boolean => signature.every((byte, i) => bytes[i] === byte);
const ascii = (bytes: Uint8Array, at: number, text: string): boolean => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** Text documents: valid UTF-8, no NUL byte (a binary file renamed .txt is not text). */
function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the bytes are what the media type says, by their magic numbers: a PNG declared as a
 * PDF (or an executable declared as an image) is refused before any model reads it.
 */
export function bytesMatch(type: string, bytes: Uint8Array): boolean {
  switch (type) {
    case 'image/png':
      return startsWith(bytes, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return startsWith(bytes, 0xff, 0xd8, 0xff);
    case 'image/gif':
      return ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a');
    case 'image/webp':
      return ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP');
    case 'application/pdf':
      return ascii(bytes, 0, '%PDF-');
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return startsWith(bytes, 0x50, 0x4b, 0x03, 0x04); // a ZIP container
    case 'application/msword':
    case 'application/vnd.ms-excel':
      return startsWith(bytes, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1); // an OLE2 compound file
    case 'text/plain':
    case 'text/markdown':
    case 'text/csv':
    case 'text/html':
      return isText(bytes);
    default:
      return false;
  }
}
