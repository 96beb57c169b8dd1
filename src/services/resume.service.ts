import type { AppConfig } from '../config/config';
import type { Replies } from '../delivery/replies';
import type { Caller } from '../models/caller';
import { GatewayError } from '../models/errors';
import type { ResumeFrame } from '../models/protocol';
import { streamKeyOf } from '../models/resume-token';
import type { RequestStore } from '../stores/request-store';
import type { StreamMeta, StreamStore } from '../stores/stream-store';
import type { RateLimiter } from './rate-limit';

export interface ResumeServiceDeps {
  readonly config: AppConfig;
  readonly requests: RequestStore;
  readonly streams: StreamStore;
  readonly limiter: RateLimiter;
  readonly replies: Replies;
}

/** One answer for every stream a caller may not resume, so a wrong token reads like an unknown request. */
function unavailable(requestId: string): GatewayError {
  return new GatewayError('resume_unavailable', 'This request cannot be resumed: it is unknown or has expired, or the token does not match.', { requestId });
}

/**
 * The route side of `llm/resume`. A live stream is pointed at the caller's connection and the
 * worker — its single writer — replays it from `fromSeq` and continues there. An ended one is
 * replayed from the log here, with its terminal frame. Only the token's holder may resume, and
 * with auth on only the same user; a resume counts as a request toward requests per minute.
 */
export class ResumeService {
  constructor(private readonly deps: ResumeServiceDeps) {}

  async resume(caller: Caller, frame: ResumeFrame): Promise<void> {
    const { streams, requests, config, limiter, replies } = this.deps;
    await limiter.countRequest(caller);
    const key = streamKeyOf(frame.data.resumeToken);
    let meta: StreamMeta | undefined = await streams.get(key);
    if (meta === undefined || meta.requestId !== frame.requestId || meta.userId !== caller.userId) throw unavailable(frame.requestId);
    if (meta.terminal === undefined) {
      // Before the move, so the worker's end removes it: the id is then busy here too (a
      // duplicate or a cancel on this connection reaches the request).
      const alias = await requests.begin(caller.connectionId, meta.requestId, meta.jobId, config.requestTtlSeconds, key);
      const moved = await streams.retarget(key, caller.connectionId, frame.data.fromSeq);
      if (moved.outcome === 'moved') {
        caller.log.info({ requestId: meta.requestId, fromSeq: frame.data.fromSeq }, 'request resumed here; the worker follows');
        return;
      }
      if (alias) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
      if (moved.outcome === 'unknown') throw unavailable(frame.requestId);
      meta = moved.meta;
    }
    // Ended: everything from the log, then the terminal frame (for a chat answer: every part).
    const logged = await streams.replay(key, meta.mode === 'chat' ? 0 : frame.data.fromSeq);
    for (const logFrame of logged) if (!(await replies.send(caller.connectionId, logFrame, caller.log))) return;
    if (meta.terminal !== undefined) await replies.send(caller.connectionId, meta.terminal, caller.log);
  }
}
