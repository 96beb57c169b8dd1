import type { AppConfig } from '../config/config';
import type { Replies } from '../delivery/replies';
import type { Caller } from '../models/caller';
import { GatewayError, toGatewayError } from '../models/errors';
import type { ResumeFrame } from '../models/protocol';
import { streamKeyOf } from '../models/resume-token';
import type { ConversationStore } from '../stores/conversation-store';
import type { HeldRequest, RequestStore } from '../stores/request-store';
import type { StreamMeta, StreamStore } from '../stores/stream-store';
import { subjectKey, type RateLimiter } from './rate-limit';

export interface ResumeServiceDeps {
  readonly config: AppConfig;
  readonly requests: RequestStore;
  readonly streams: StreamStore;
  readonly conversations: ConversationStore;
  readonly limiter: RateLimiter;
  readonly replies: Replies;
}

/** One answer for every stream a caller may not resume, so a wrong token reads like an unknown request. */
function unavailable(): GatewayError {
  return new GatewayError('resume_unavailable', 'This request cannot be resumed: it is unknown or has expired, or the token does not match.');
}

/** What a connection holds the id under while an ended answer of job `jobId` is replayed to it. */
function replayHold(jobId: string): string {
  return `${jobId}:replay`;
}

/** A resume that needs no answer of its own: the answer it joins is ending on its connection. */
class AnsweredByItsEnd extends Error {}

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
      if (error instanceof AnsweredByItsEnd) return;
      const failure = toGatewayError(error);
      // Read again when nothing was held: a request sent just before this resume may have taken
      // the id since (its `accepted` may already be out), and a refusal naming it as `requestId`
      // would read as that request's end.
      const holds = held !== undefined || (await this.deps.requests.held(caller.connectionId, requestId).catch(() => undefined)) !== undefined;
      throw holds ? failure.refusing(requestId) : failure.forRequest(requestId);
    }
  }

  private async admit(caller: Caller, frame: ResumeFrame, held: HeldRequest | undefined): Promise<void> {
    const { streams, limiter } = this.deps;
    const key = await this.streamKeyOf(caller, frame);
    const meta: StreamMeta | undefined = key === undefined ? undefined : await streams.get(key);
    if (key === undefined || meta === undefined || meta.requestId !== frame.requestId || meta.userId !== caller.userId) throw unavailable();
    const mine = held !== undefined && (held.jobId === meta.jobId || held.jobId === replayHold(meta.jobId));
    if (held !== undefined && !mine) throw busy(frame.requestId);
    if (held !== undefined && (meta.terminal !== undefined || held.jobId === replayHold(meta.jobId))) {
      // This connection holds the answer and it is ending here — its terminal frame is on its way,
      // from the worker or from a replay another resume started — and that answers this resume
      // too: a second replay would interleave with it.
      caller.log.info({ requestId: meta.requestId }, 'resume of an answer ending on this connection: its end answers it');
      return;
    }
    const uncount = await limiter.countRequest(caller);
    // A chat answer is replayed whole: its parts come at the end, and a client joins them all.
    const fromSeq = meta.mode === 'chat' ? 0 : frame.data.fromSeq;
    let ended: StreamMeta | undefined = meta.terminal === undefined ? undefined : meta;
    try {
      ended ??= await this.handOver(caller, key, meta, fromSeq, held !== undefined);
    } catch (error) {
      await uncount().catch(() => undefined);
      throw error;
    }
    if (ended !== undefined) await this.replay(caller, key, ended, fromSeq, uncount);
  }

  /**
   * The stream the resume names: the token's, or (v1 addition) the running answer of a
   * conversation of the caller's — being its owner is the capability then. An answer that has
   * ended is no longer the conversation's to resume: `conv/get` shows it.
   */
  private async streamKeyOf(caller: Caller, frame: ResumeFrame): Promise<string | undefined> {
    const { resumeToken, conversationId } = frame.data;
    if (resumeToken !== undefined) return streamKeyOf(resumeToken);
    const running = (await this.deps.conversations.get(subjectKey(caller), conversationId!))?.running;
    return running !== undefined && running.requestId === frame.requestId && running.until > Date.now() ? running.streamKey : undefined;
  }

  /**
   * Points a live answer at this connection, which takes the id for it first (unless it holds
   * it already: a gap repair) — the worker then follows and, at the end, removes that record.
   * Returns the stream if it turned out to have ended (to be replayed), else undefined.
   */
  private async handOver(caller: Caller, key: string, meta: StreamMeta, fromSeq: number, holds: boolean): Promise<StreamMeta | undefined> {
    const { requests, streams, config } = this.deps;
    const took = !holds && (await requests.begin(caller.connectionId, meta.requestId, meta.jobId, config.requestTtlSeconds, key));
    // Another request took the id here since: it goes on, and this refusal must not end it.
    if (!holds && !took) throw busy(meta.requestId).refusing(meta.requestId);
    const moved = await streams.retarget(key, caller.connectionId, fromSeq).catch(async (error: unknown) => {
      if (took) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
      throw error;
    });
    if (moved.outcome === 'moved') {
      // The record again, as of this version: a worker following an older resume may have removed
      // it since it was read (a record taken at this version is one it no longer removes).
      const holds = await requests.hold(caller.connectionId, meta.requestId, meta.jobId, config.requestTtlSeconds, key, moved.meta.version).catch(() => true);
      if (!holds) caller.log.warn({ requestId: meta.requestId }, 'another request took the id on this connection while it was resumed here');
      caller.log.info({ requestId: meta.requestId, fromSeq }, 'request resumed here; the worker follows');
      return undefined;
    }
    if (took) await requests.end(caller.connectionId, meta.requestId, meta.jobId).catch(() => undefined);
    if (moved.outcome === 'unknown') throw unavailable();
    // Held here and ended meanwhile: its end is on its way here and answers this resume.
    if (holds) throw new AnsweredByItsEnd();
    return moved.meta;
  }

  /**
   * Replays an ended answer: `resumed`, every logged frame from `fromSeq`, the terminal frame. The
   * connection holds the id for the replay — under its own mark, so the worker's end of the same
   * job cannot remove it — until the terminal frame was sent, so no request under the id mixes in.
   */
  private async replay(caller: Caller, key: string, meta: StreamMeta, fromSeq: number, uncount: () => Promise<void>): Promise<void> {
    const { requests, streams, replies, config } = this.deps;
    const hold = replayHold(meta.jobId);
    if (!(await requests.begin(caller.connectionId, meta.requestId, hold, config.requestTtlSeconds, key))) {
      const other = await requests.held(caller.connectionId, meta.requestId);
      await uncount().catch(() => undefined);
      // Another resume replays it here already, and its end answers this one; else the id is busy.
      if (other?.jobId === hold) return;
      throw busy(meta.requestId).refusing(meta.requestId);
    }
    try {
      const logged = await streams.replay(key, fromSeq);
      const frames = [{ type: 'resumed' as const, requestId: meta.requestId, fromSeq }, ...logged];
      for (const logFrame of frames) if (!(await replies.send(caller.connectionId, logFrame, caller.log))) return;
      if (meta.terminal !== undefined) await replies.send(caller.connectionId, meta.terminal, caller.log);
    } finally {
      await requests.end(caller.connectionId, meta.requestId, hold).catch(() => undefined);
    }
  }
}
