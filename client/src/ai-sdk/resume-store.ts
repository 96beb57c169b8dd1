/** What the transport keeps per chat while an answer is in flight, to reconnect after a reload. */
export interface InFlight {
  readonly requestId: string;
  readonly resumeToken: string;
  readonly messageId: string;
}

/** Where it keeps it: `sessionStorage` in browsers (per tab, gone with it), memory elsewhere; or your own. */
export interface ResumeStore {
  get(chatId: string): InFlight | undefined;
  set(chatId: string, value: InFlight): void;
  delete(chatId: string): void;
}

const PREFIX = 'ws-llm-gateway.resume.';

export function defaultResumeStore(): ResumeStore {
  const storage = (globalThis as { sessionStorage?: Storage }).sessionStorage;
  if (storage === undefined) {
    const memory = new Map<string, InFlight>();
    return { get: (id) => memory.get(id), set: (id, value) => void memory.set(id, value), delete: (id) => void memory.delete(id) };
  }
  return {
    get: (id) => {
      try {
        const raw = storage.getItem(PREFIX + id);
        return raw === null ? undefined : (JSON.parse(raw) as InFlight);
      } catch {
        return undefined;
      }
    },
    set: (id, value) => {
      try {
        storage.setItem(PREFIX + id, JSON.stringify(value));
      } catch {
        // Storage full or blocked: the answer still streams, it just cannot be resumed after a reload.
      }
    },
    delete: (id) => storage.removeItem(PREFIX + id),
  };
}
