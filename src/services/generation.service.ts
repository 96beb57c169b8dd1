import type { AppConfig } from '../config/config';
import type { ChatModel } from '../llm/chat-model';
import { cancelledError, GatewayError } from '../models/errors';
import type { ServerFrame } from '../models/server-frames';
import type { Delivery } from '../models/delivery';
import type { Job, JobIdentity } from '../models/job';
import type { RequestStore } from '../stores/request-store';
import type { StreamMeta, StreamStore } from '../stores/stream-store';
import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import type { FrameSender } from '../utils/websocket';
import type { Replies } from '../delivery/replies';
import type { ActiveGenerations } from './active-generations';
import { produceAnswer, type Answer } from '../generation/answer';
import { ConversationAttachments } from './conversation-attachments';
import { ConversationRuns, type OpenTurn } from './conversation-run';
import { TurnRefusal } from './turn-refusal';
import { cutShort, interrupted, turnOutcome } from './turn-outcome';
import type { ConversationStore, StoredMessage } from '../stores/conversation-store';
import type { CounterStore } from '../stores/counter-store';
import type { Progress } from '../generation/generation';
import { reportAnswer } from '../generation/answer-report';
import type { AttachmentStore } from '../attachments/attachment-store';
import { watchStream } from '../generation/stream-watch';
import type { StreamTarget } from '../generation/stream-target';
import { streamTargetOf } from '../generation/stream-target-of';
import type { RateLimiter } from './rate-limit';
import { ModelInputs } from '../generation/model-input';

export interface GenerationServiceDeps {
  readonly config: AppConfig;
  readonly model: ChatModel;
  readonly sender: FrameSender;
  readonly replies: Replies;
  readonly streams: StreamStore;
  readonly requests: RequestStore;
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
  /** Per-user conversation counters (the bytes a turn adds). */
  readonly counters: CounterStore;
  readonly metrics: GatewayMetrics;
  readonly attachments: AttachmentStore | undefined;
  readonly conversations: ConversationStore;
}

/** How a request ended: its terminal frame, or the reason it failed. */
type Outcome = { readonly terminal: ServerFrame } | { readonly failure: unknown };


/**
 * The worker side of a chat request: claims the queued job (so a redelivery never streams twice),
 * runs the model, delivers the answer and ends every request with exactly one terminal frame
 * (`done`, `response` or `error`) unless the client has gone. Everything the request held — its
 * limit slots, its token reservation, its record — is released *before* that frame is posted,
 * so a client that sends its next request the moment it sees `done` finds them free.
 */
export class GenerationService {
  /** The model's input of each job: attachments read within this process's budget, tokens reserved for them. */
  private readonly inputs: ModelInputs;

  /** A conversation's turn: its history before the model call, its answer kept after. */
  private readonly runs: ConversationRuns;

  constructor(private readonly deps: GenerationServiceDeps) {
    this.runs = new ConversationRuns(deps.conversations, deps.config, new ConversationAttachments(deps.attachments), deps.counters);
    this.inputs = new ModelInputs(deps.config, deps.attachments, (ticket, extra) => deps.limiter.reserveMore(ticket, extra));
  }

  /**
   * Runs one delivery of a job. Throws only when the job could not be claimed (the store
   * failed): the queue then delivers it again, and on the last delivery the client is told.
   */
  async run(job: Job, delivery: Delivery): Promise<void> {
    const { streams, config, metrics } = this.deps;
    const log = this.logFor(job, delivery.log);
    let claim;
    // A conversation's history is read beside the claim (a duplicate delivery wastes one read).
    const history = this.runs.prefetch(job);
    try {
      claim = await streams.claim(job.streamKey, job.jobId, delivery.deadlineAt + config.worker.timeMarginMs);
    } catch (error) {
      if (delivery.receiveCount >= config.queue.maxReceiveCount) {
        // The last delivery: the job goes to the dead-letter queue, and the client must not wait.
        await this.end(job, 0, { failure: new GatewayError('internal_error', 'The answer could not be started; please retry.', { retryable: true, cause: error }) }, log, undefined, this.closeCutShort(job, 'failed'));
      }
      throw error;
    }
    if (claim.outcome === 'duplicate') {
      metrics.count(METRICS.duplicateJobs);
      log.info('job already taken or ended: this delivery is a duplicate and does nothing');
      return;
    }
    if (claim.outcome === 'interrupted') {
      metrics.count(METRICS.interruptedJobs);
      log.warn({ receiveCount: delivery.receiveCount }, 'the worker of this job stopped mid-answer; telling the client');
      const failure = new GatewayError('internal_error', 'The answer was interrupted; please retry.', { retryable: true });
      await this.end(job, job.ticket.reservedTokens, { failure }, log, undefined, this.closeCutShort(job, 'interrupted'));
      return;
    }
    metrics.milliseconds(METRICS.queueWait, Math.max(0, Date.now() - job.queuedAt));
    await this.generate(job, claim.meta, delivery.deadlineAt, log, history);
  }

  /**
   * Ends the request a queue message was written for when the message is not a job this worker
   * can run (another version wrote it, or it was damaged): the client gets an error instead of
   * waiting forever, and the limits are released. The claim makes this happen once, however
   * often the message is delivered.
   */
  async abandon(identity: JobIdentity, problem: string, delivery: Delivery): Promise<void> {
    const log = this.logFor(identity, delivery.log);
    const claim = await this.deps.streams.claim(identity.streamKey, identity.jobId, delivery.deadlineAt);
    if (claim.outcome === 'duplicate') return;
    log.error({ problem }, 'queue message names a request but is not a job this worker can run; ending the request');
    const failure = new GatewayError('internal_error', 'The gateway could not run this request.', { retryable: false });
    await this.end(identity, 0, { failure }, log);
  }

  /** Runs a claimed job; `meta` is the stream as claimed (a resume or cancel may have come while it was queued). */
  private async generate(job: Job, meta: StreamMeta, deadlineAt: number, log: Logger, history?: Promise<StoredMessage[]>): Promise<void> {
    const { config, active, streams } = this.deps;
    const controller = new AbortController();
    const progress: Progress = { called: false, producedChars: 0, usedTokens: undefined, text: '' };
    const target = streamTargetOf(this.deps, job, undefined, log, (reason) => controller.abort(reason));
    // A resume while the job was queued: follow it now (telling the connection that asked).
    await target.follow(meta);
    active.register(job.connectionId, job.requestId, controller);
    const stopWatch = watchStream(streams, job.streamKey, config.stream.cancelCheckIntervalMs, controller.signal, async (latest) => {
      if (latest.cancelled) controller.abort(cancelledError());
      else await target.follow(latest);
    }, log);
    // Ends the answer cleanly before the invocation times out, rather than dying mid-stream.
    const deadline = setTimeout(
      () => controller.abort(new GatewayError('upstream_timeout', 'The answer reached the gateway’s time limit for one generation.')),
      Math.max(0, deadlineAt - Date.now()),
    );
    let outcome: Outcome;
    let ticket: Job['ticket'] = job.ticket;
    let inputTokens = job.inputTokens;
    let releaseAttachments = (): void => undefined;
    let turn: OpenTurn | undefined;
    let answer: Answer | undefined;
    try {
      if (meta.cancelled) throw cancelledError();
      // A conversation's turn: its history read and its user message kept, before the model call.
      if (job.conversation !== undefined) turn = await this.runs.open(job, history);
      // Attachments are read and checked here, before the model is called (and billed); documents
      // count by their real size now, never more than the limits allow.
      const input = await this.inputs.prepare(turn === undefined ? job : { ...job, request: turn.request }, controller.signal);
      releaseAttachments = input.release;
      ({ inputTokens, ticket } = input);
      const { request } = input;
      answer = await produceAnswer(
        { model: this.deps.model, target, stream: config.stream },
        { job, request, signal: controller.signal, abort: (reason) => controller.abort(reason), progress },
      );
      reportAnswer(answer, job.receivedAt, this.deps.metrics, log);
      // Where the turn was kept (its few hundred bytes fit the margin the terminal frame was sized with).
      outcome = { terminal: turn === undefined ? answer.terminal : { ...answer.terminal, conversation: turn.kept } };
    } catch (error) {
      outcome = { failure: controller.signal.aborted ? controller.signal.reason : error };
    } finally {
      releaseAttachments();
      clearTimeout(deadline);
      stopWatch();
      active.unregister(job.connectionId, job.requestId);
    }
    // Whatever ended the generation — done, error, cancel, a crash — its token reservation
    // settles to the usage reported, or else estimated.
    // A request the model never started answering (cancelled while queued, refused attachments,
    // refused or throttled by the provider before its stream) used nothing.
    const used = progress.called ? (progress.usedTokens ?? inputTokens + Math.ceil(progress.producedChars / 4)) : 0;
    const kept = answer;
    const failure = 'failure' in outcome ? outcome.failure : undefined;
    const close = (): Promise<void> => this.runs.close(job, turn, kept !== undefined ? turnOutcome(kept, progress) : cutShort(progress, failure));
    // Past its claim's lease (the invocation's end) a worker is one Lambda would have stopped, and a
    // redelivery may have found the job interrupted and ended its turn: what this one kept then
    // could land after later turns (at an index a regeneration or an edit freed). It keeps its
    // turn only while the conversation still runs it.
    const leaseUntil = deadlineAt + config.worker.timeMarginMs;
    const closeInTime = async (): Promise<void> => {
      if (Date.now() <= leaseUntil || (await this.runs.holds(job))) return close();
      log.warn('the answer ended past its invocation\'s time and its turn was ended by a redelivery: this worker keeps nothing');
    };
    const closeTurn =
      job.conversation === undefined ? undefined
      // A turn refused before anything was written (an edit of no user message) leaves the conversation as it was.
      : failure instanceof TurnRefusal ? () => this.runs.refuse(job)
      : closeInTime;
    await this.end({ ...job, ticket }, used, outcome, log, target, closeTurn);
  }

  /**
   * Releases what the request holds — its limit slots and token settlement, its request records
   * on every connection it was delivered to — and then ends it with its terminal frame: in this
   * order, always. With a stream target the frame is logged (a resume after the end gets it) and
   * posted where the answer goes now; without one (the job never started) it goes to the
   * connection that asked.
   */
  private async end(job: JobIdentity, usedTokens: number, outcome: Outcome, log: Logger, given?: StreamTarget, closeTurn?: () => Promise<void>): Promise<void> {
    const { limiter, requests, replies, streams } = this.deps;
    // A job that never ran (interrupted, never claimed) still ends its stream, wherever it went.
    let target = given;
    let others: string[] = [];
    if (target === undefined) {
      const meta = await streams.get(job.streamKey).catch(() => undefined);
      if (meta !== undefined) {
        target = streamTargetOf(this.deps, job, meta, log, () => undefined);
        // A resume that came while no worker was following the stream gets its frames first.
        if (meta.terminal === undefined) await target.replayLogged(meta).catch((error: unknown) => log.warn({ err: error }, 'could not replay the log to a resume'));
        // A worker that died may have left connections that took the request unfollowed.
        others = [...new Set(meta.targets)].filter((connectionId) => connectionId !== meta.target);
      }
    }
    const removeRecords = (connections: readonly string[]): Promise<unknown> =>
      Promise.all(
        connections.map((connectionId) =>
          requests.end(connectionId, job.requestId, job.jobId).catch((error: unknown) => log.warn({ err: error }, 'could not remove a request record; its TTL will')),
        ),
      );
    const stillHeld = (await Promise.all(others.map(async (connectionId) => ((await requests.held(connectionId, job.requestId).catch(() => undefined))?.jobId === job.jobId ? connectionId : undefined)))).filter(
      (connectionId): connectionId is string => connectionId !== undefined,
    );
    const terminal = target === undefined ? undefined : 'terminal' in outcome ? outcome.terminal : replies.frameFor(job.requestId, outcome.failure, log);
    const followed = target?.followed;
    // The settlement with the log's last checkpoint, then the stream's end (which needs the
    // whole log), then the records' removal — last, so that between a record gone (its id free
    // again) and the terminal frame there is only the post: a frame for the id that lands in
    // between reads it as free, and its refusal would read as this answer's end.
    await Promise.all([
      limiter.settle(job.ticket, usedTokens).catch((error: unknown) => log.warn({ err: error }, 'could not settle limits; the slots expire')),
      target?.flushLog(),
      // A conversation's answer is kept and its running answer ended before the terminal frame,
      // so the next turn, sent the moment it arrives, finds the conversation free and whole.
      closeTurn?.().catch((error: unknown) => log.error({ err: error }, 'could not keep the conversation\'s turn; its answer time frees the conversation')),
    ]);
    if (target !== undefined && terminal !== undefined) await target.end(terminal);
    await removeRecords([...(target?.connections ?? [job.connectionId]), ...stillHeld]);
    if (target === undefined || terminal === undefined) {
      if ('failure' in outcome) await replies.fail(job.connectionId, job.requestId, outcome.failure, log);
      else await replies.sendEnd(job.connectionId, outcome.terminal, log);
      return;
    }
    await target.deliverEnd(terminal);
    // A resume that raced the end moved the request: the record of where it went goes too (only
    // then — otherwise it was removed above, and a second delete is a wasted write per answer).
    if (target.followed !== followed) await removeRecords(target.connections);
    for (const connectionId of stillHeld) await replies.sendEnd(connectionId, terminal, log);
  }

  /** For a job that ran no model here: its conversation's turn ends with an empty answer. */
  private closeCutShort(job: Job, status: 'interrupted' | 'failed'): (() => Promise<void>) | undefined {
    if (job.conversation === undefined) return undefined;
    return async () => {
      // What the dead worker's client could have seen is what its log holds.
      const logged = await this.deps.streams.replay(job.streamKey, 0).catch(() => []);
      await this.runs.close(job, undefined, interrupted(logged, status));
    };
  }

  private logFor(job: JobIdentity & { readonly userId?: string }, log: Logger): Logger {
    const { connectionId, requestId, jobId, userId } = job;
    return log.child({ connectionId, requestId, jobId, ...(userId !== undefined ? { userId } : {}) });
  }
}
