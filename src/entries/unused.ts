import type { ChatModel } from '../llm/chat-model';
import type { JobQueue } from '../queue/job-queue';

function notHere(what: string): Error {
  return new Error(`${what} is not part of this function (see src/entries/)`);
}

/** Stand-ins for the parts a function never uses: calling one is a bug, and says so. */
export const unused: { readonly model: ChatModel; readonly queue: JobQueue } = {
  model: {
    stream: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(notHere('A model')) }),
    }),
  },
  queue: { enqueue: () => Promise.reject(notHere('The job queue')) },
};
