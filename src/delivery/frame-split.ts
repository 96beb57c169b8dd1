/**
 * Splits text so that each frame built around a piece serialises to at most `maxBytes`.
 * JSON escaping can grow text up to six-fold (control characters become \u00XX), so the size
 * is measured on the serialised frame, never guessed from the text length.
 */
export function splitToFit(content: string, maxBytes: number, frameOf: (piece: string) => unknown): string[] {
  if (Buffer.byteLength(JSON.stringify(frameOf(content))) <= maxBytes || content.length <= 1) return [content];
  let middle = Math.floor(content.length / 2);
  // Never cut a surrogate pair in two: both halves must stay valid UTF-16.
  const code = content.charCodeAt(middle - 1);
  if (code >= 0xd800 && code <= 0xdbff) middle += 1;
  return [
    ...splitToFit(content.slice(0, middle), maxBytes, frameOf),
    ...splitToFit(content.slice(middle), maxBytes, frameOf),
  ];
}
