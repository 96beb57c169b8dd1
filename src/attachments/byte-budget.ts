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

  /**
   * `afterRelease` hears of every amount given back, and the next takers are let in once it
   * resolves — time to have the released bytes' garbage collected before new bytes are read.
   */
  constructor(
    private readonly capacity: number,
    private readonly afterRelease: (bytes: number) => Promise<void> = () => Promise.resolve(),
  ) {
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
      void this.afterRelease(amount).then(
        () => this.grantWaiting(),
        () => this.grantWaiting(),
      );
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
