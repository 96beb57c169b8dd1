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

/** The refusal of a resume onto a connection where another request holds the id. */
function busy(requestId: string): GatewayError {
  return new GatewayError(
    'invalid_request',
    `requestId "${requestId}" is already running on this connection as another request; resume it on a connection that does not use this id.`,
  );
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
    if (held !== undefined && held.jobId !== meta.jobId) throw busy(frame.requestId);
    if (held !== undefined && meta.terminal !== undefined) {
      // This connection holds the answer and it has just ended: its terminal frame is on its way
      // here (from the worker, or from a replay another resume started), and it answers this
      // resume too — a second replay would interleave with it.
      caller.log.info({ requestId: meta.requestId }, 'resume of an answer ending on this connection: its end answers it');
      return;
    }
    const uncount = await limiter.countRequest(caller);
    // A chat answer is replayed whole: its parts come at the end, and a client joins them all.
    const fromSeq = meta.mode === 'chat' ? 0 : frame.data.fromSeq;
    // The id is this connection's for the resume — whether the worker follows it here or the log
    // is replayed — so no other request can take it meanwhile and mix its frames in. Held
    // already (the client repairs a gap where the answer goes): nothing to take.
    let took = false;
    try {
      if (held === undefined) {
        took = await requests.begin(caller.connectionId, meta.requestId, meta.jobId, config.requestTtlSeconds, key);
        // Another request took the id here since: it goes on, and this refusal must not end it.
        if (!took) throw busy(frame.requestId).refusing(frame.requestId);
      }
      if (meta.terminal === undefined) {
        const moved = await streams.retarget(key, caller.connectionId, fromSeq);
        // The worker's end removes the record (it is among the stream's targets now).
        if (moved.outcome === 'moved') {
          caller.log.info({ requestId: meta.requestId, fromSeq }, 'request resumed here; the worker follows');
          return;
        }
        if (moved.outcome === 'unknown') throw unavailable();
        if (!took) {
          // Held here and ended meanwhile: as above, its end is on its way and answers this resume.
          await uncount().catch(() => undefined);
          return;
        }
        meta = moved.meta;
      }
    } catch (error) {
      if (took) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
      await uncount().catch(() => undefined);
      throw error;
    }
    // Ended: `resumed`, everything from the log, then the terminal frame; the id is given back
    // after it (a replay is short, and a request taking the id mid-replay would interleave).
    try {
      const logged = await streams.replay(key, fromSeq);
      const frames = [{ type: 'resumed' as const, requestId: meta.requestId, fromSeq }, ...logged];
      for (const logFrame of frames) if (!(await replies.send(caller.connectionId, logFrame, caller.log))) return;
      if (meta.terminal !== undefined) await replies.send(caller.connectionId, meta.terminal, caller.log);
    } finally {
      if (took) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
    }
  }
}
