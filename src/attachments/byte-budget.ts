/**
 * The attachment bytes one worker process holds at once, shared by the answers it runs side by
 * side (an SQS batch): an answer takes its attachments' total before reading them and gives it
 * back when it ends. One that does not fit waits, first come first served, until earlier answers
 * give enough back — so a batch of answers with large attachments runs them one after another
 * instead of running out of memory together.
 */
export class ByteBudget {
  private free: number;
  private readonly waiting: Array<{ readonly bytes: number; readonly grant: () => void }> = [];

  constructor(private readonly capacity: number) {
    this.free = capacity;
  }

  /**
   * Takes `bytes` (at most the capacity: the caller refuses more before asking), waiting while
   * they are not free; rejects with the signal's reason if it aborts meanwhile. Returns what
   * gives them back (once).
   */
  async take(bytes: number, signal: AbortSignal): Promise<() => void> {
    const amount = Math.min(bytes, this.capacity);
    if (amount === 0) return () => undefined;
    if (this.waiting.length === 0 && amount <= this.free) this.free -= amount;
    else await this.queue(amount, signal);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.free += amount;
      this.grantWaiting();
    };
  }

  private queue(amount: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const entry = {
        bytes: amount,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        this.grantWaiting();
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.bytes <= this.free) {
      const next = this.waiting.shift()!;
      this.free -= next.bytes;
      next.grant();
    }
  }
}
