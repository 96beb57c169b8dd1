import WebSocket from 'ws';

/** One scripted chat per connection, checked frame by frame. */
export interface LoadOptions {
  /** ws:// URL of the gateway (loopback only). */
  readonly url: string;
  readonly connections: number;
  /** The prompt of connection `i`; prompts differ, so a frame that strays to another connection shows. */
  readonly prompt: (i: number) => string;
  /** The exact answer connection `i` must receive (the mock model is deterministic). */
  readonly expected: (i: number) => string;
  /** Connections opened at once while ramping up. */
  readonly openBatch?: number;
  /** Hard limit: whatever has not finished by then counts as failed, and every socket is closed. */
  readonly timeoutMs: number;
  /** Called once every connection is open, before any prompt is sent (e.g. to sample memory). */
  readonly onAllOpen?: () => Promise<void> | void;
}

export interface LoadResult {
  readonly connectionsHeld: number;
  readonly complete: number;
  /** What went wrong, one line per failed connection (empty when every stream was right). */
  readonly failures: readonly string[];
  /** From the first prompt sent to the last `done` received. */
  readonly elapsedMs: number;
  readonly timeToFirstChunkMs: readonly number[];
  readonly interChunkGapMs: readonly number[];
  readonly framesReceived: number;
}

interface Frame {
  readonly type?: string;
  readonly requestId?: string;
  readonly seq?: number;
  readonly content?: string;
}

interface Session {
  readonly socket: WebSocket;
  readonly frames: Frame[];
  readonly arrivals: number[];
  sentAt: number;
  done: () => void;
  finished: Promise<void>;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Why the frames of connection `i` are not exactly one complete, ordered answer of its own. */
export function streamProblem(frames: readonly Frame[], requestId: string, expected: string): string | undefined {
  if (frames.some((f) => f.requestId !== requestId)) return `a frame of another request arrived: ${JSON.stringify(frames.find((f) => f.requestId !== requestId))}`;
  if (frames[0]?.type !== 'accepted') return `first frame is ${frames[0]?.type ?? 'missing'}, not accepted`;
  const last = frames.at(-1);
  if (last?.type !== 'done') return `last frame is ${last?.type ?? 'missing'}, not done`;
  const chunks = frames.slice(1, -1);
  if (chunks.some((f) => f.type !== 'chunk')) return 'a frame other than chunk between accepted and done';
  if (chunks.some((f, n) => f.seq !== n)) return `chunk seqs not contiguous: ${chunks.map((f) => f.seq).join(',')}`;
  if (last.seq !== chunks.length) return `done.seq ${last.seq} but ${chunks.length} chunks`;
  const text = chunks.map((f) => f.content ?? '').join('');
  if (text !== expected) return `text differs from the expected answer (${text.length} vs ${expected.length} characters)`;
  return undefined;
}

/**
 * Opens `connections` WebSockets to a gateway (in batches), sends one `llm/stream` on each at
 * once, and checks every stream: complete, in order, its own. Bounded in count and time: it
 * closes every socket and returns by `timeoutMs` whatever happens.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const sessions: Session[] = [];
  const batch = options.openBatch ?? 50;
  const deadline = Date.now() + options.timeoutMs;
  const failures: string[] = [];
  try {
    for (let start = 0; start < options.connections && Date.now() < deadline; start += batch) {
      const count = Math.min(batch, options.connections - start);
      const opened = await Promise.allSettled(Array.from({ length: count }, () => open(options.url)));
      for (const result of opened) {
        if (result.status === 'rejected') {
          failures.push(`connect failed: ${String(result.reason)}`);
          continue;
        }
        const socket = result.value;
        const session = { socket, frames: [], arrivals: [], sentAt: 0 } as unknown as Session;
        session.finished = new Promise<void>((resolve) => {
          session.done = resolve;
        });
        socket.on('message', (data: WebSocket.RawData) => {
          session.arrivals.push(performance.now());
          const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
          const frame = JSON.parse(text) as Frame;
          session.frames.push(frame);
          if (frame.type === 'done' || frame.type === 'error') session.done();
        });
        socket.on('close', () => session.done());
        sessions.push(session);
      }
    }
    const held = sessions.filter((s) => s.socket.readyState === WebSocket.OPEN).length;
    await options.onAllOpen?.();
    const began = performance.now();
    sessions.forEach((session, i) => {
      session.sentAt = performance.now();
      session.socket.send(JSON.stringify({ action: 'llm/stream', requestId: `load-${i}`, data: { messages: [{ role: 'user', content: options.prompt(i) }] } }));
    });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.all(sessions.map((s) => s.finished)), timeout]);
    const elapsedMs = Math.max(...sessions.map((s) => s.arrivals.at(-1) ?? began)) - began;
    const ttfc: number[] = [];
    const gaps: number[] = [];
    let complete = 0;
    sessions.forEach((session, i) => {
      const problem = streamProblem(session.frames, `load-${i}`, options.expected(i));
      if (problem) failures.push(`connection ${i}: ${problem}`);
      else complete += 1;
      const chunkTimes = session.frames.map((f, n) => (f.type === 'chunk' ? session.arrivals[n]! : undefined)).filter((t): t is number => t !== undefined);
      if (chunkTimes[0] !== undefined) ttfc.push(chunkTimes[0] - session.sentAt);
      for (let n = 1; n < chunkTimes.length; n += 1) gaps.push(chunkTimes[n]! - chunkTimes[n - 1]!);
    });
    return {
      connectionsHeld: held,
      complete,
      failures,
      elapsedMs,
      timeToFirstChunkMs: ttfc,
      interChunkGapMs: gaps,
      framesReceived: sessions.reduce((sum, s) => sum + s.frames.length, 0),
    };
  } finally {
    await Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.socket.readyState === WebSocket.CLOSED) return resolve();
            s.socket.once('close', () => resolve());
            s.socket.close(1000, 'load done');
            setTimeout(() => {
              s.socket.terminate();
              resolve();
            }, 2000).unref();
          }),
      ),
    );
  }
}

/** The p-th percentile (0–100) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
