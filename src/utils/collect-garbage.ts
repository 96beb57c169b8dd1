/** Attachment bytes given back at once past which a collection is worth its CPU. */
const WORTH_COLLECTING_BYTES = 1024 * 1024;

let scheduled: Promise<void> | undefined;

/**
 * Runs a full garbage collection once the current work has unwound, after an answer gave back
 * `bytes` of attachments, and resolves after it (at once when there is nothing worth it). Their buffers and base64 copies (about four times their size)
 * are garbage then, but V8 counts memory outside its heap late: in a 128 MB function the next
 * answer's attachments would be read on top of them and the sandbox killed for memory. Lambda's
 * Node.js runtime starts Node with `--expose-gc`; elsewhere (`global.gc` absent) this does nothing.
 */
export function collectAfterRelease(bytes: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined || bytes < WORTH_COLLECTING_BYTES) return Promise.resolve();
  scheduled ??= new Promise((done) =>
    setImmediate(() => {
      scheduled = undefined;
      gc();
      done();
    }),
  );
  return scheduled;
}
