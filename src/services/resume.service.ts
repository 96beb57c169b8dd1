import type { AppConfig } from '../config/config';
import type { Replies } from '../delivery/replies';
import type { Caller } from '../models/caller';
import { GatewayError, toGatewayError } from '../models/errors';
import type { ResumeFrame } from '../models/protocol';
import { streamKeyOf } from '../models/resume-token';
import type { HeldRequest, RequestStore } from '../stores/request-store';
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
function unavailable(): GatewayError {
  return new GatewayError('resume_unavailable', 'This request cannot be resumed: it is unknown or has expired, or the token does not match.');
}

/**
 * The route side of `llm/resume`. A live stream is pointed at the caller's connection and the
 * worker — its single writer — answers `resumed`, replays it from `fromSeq` and continues there.
 * An ended one is replayed from the log here, with its terminal frame. Only the token's holder
 * may resume, and with auth on only the same user.
 *
 * Every refusal names the id: as `requestId` (it ends the resume: this connection holds no
 * request under that id) or, when this connection already holds a request under the id, as
 * `refusedRequestId` — that request goes on and ends by itself, so the refusal must not read as
 * its end. A resume onto a connection holding the id for *another* request is refused, never
 * merged. The resume counts toward requests per minute only once it is known to be valid, and is
 * given back if it then cannot happen.
 */
export class ResumeService {
  constructor(private readonly deps: ResumeServiceDeps) {}

  async resume(caller: Caller, frame: ResumeFrame): Promise<void> {
    const { requestId } = frame;
    const held = await this.deps.requests.held(caller.connectionId, requestId);
    try {
      await this.admit(caller, frame, held);
    } catch (error) {
      const failure = toGatewayError(error);
      throw held === undefined ? failure.forRequest(requestId) : failure.refusing(requestId);
    }
  }

  private async admit(caller: Caller, frame: ResumeFrame, held: HeldRequest | undefined): Promise<void> {
    const { streams, requests, config, limiter, replies } = this.deps;
    const key = streamKeyOf(frame.data.resumeToken);
    let meta: StreamMeta | undefined = await streams.get(key);
    if (meta === undefined || meta.requestId !== frame.requestId || meta.userId !== caller.userId) throw unavailable();
    if (held !== undefined && held.jobId !== meta.jobId) {
      throw new GatewayError(
        'invalid_request',
        `requestId "${frame.requestId}" is already running on this connection as another request; resume it on a connection that does not use this id.`,
      );
    }
    const uncount = await limiter.countRequest(caller);
    // A chat answer is replayed whole: its parts come at the end, and a client joins them all.
    const fromSeq = meta.mode === 'chat' ? 0 : frame.data.fromSeq;
    try {
      if (meta.terminal === undefined) {
        // Before the move, so the worker's end removes it: the id is then busy here too (a
        // duplicate or a cancel on this connection reaches the request). Held already (the
        // client repairs a gap on the connection the answer goes to): nothing to take.
        const alias = held === undefined && (await requests.begin(caller.connectionId, meta.requestId, meta.jobId, config.requestTtlSeconds, key));
        if (held === undefined && !alias) {
          throw new GatewayError('invalid_request', `requestId "${frame.requestId}" is already running on this connection; this frame was ignored.`);
        }
        const moved = await streams.retarget(key, caller.connectionId, fromSeq);
        if (moved.outcome === 'moved') {
          caller.log.info({ requestId: meta.requestId, fromSeq }, 'request resumed here; the worker follows');
          return;
        }
        if (alias) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
        if (moved.outcome === 'unknown') throw unavailable();
        meta = moved.meta;
      }
    } catch (error) {
      await uncount().catch(() => undefined);
      throw error;
    }
    // Ended: `resumed`, everything from the log, then the terminal frame.
    const logged = await streams.replay(key, fromSeq);
    const frames = [{ type: 'resumed' as const, requestId: meta.requestId, fromSeq }, ...logged];
    for (const logFrame of frames) if (!(await replies.send(caller.connectionId, logFrame, caller.log))) return;
    if (meta.terminal !== undefined) await replies.send(caller.connectionId, meta.terminal, caller.log);
  }
}
