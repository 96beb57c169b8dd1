import { randomUUID } from 'node:crypto';
import { ATTACHMENTS_OFF } from '../attachments/attachment-store';
import type { AppConfig } from '../config/config';
import { estimatePromptTokens } from '../llm/tokens';
import { cancelledError, GatewayError, toGatewayError } from '../models/errors';
import type { Job, JobRequest } from '../models/job';
import type { CancelFrame, ChatRequestFrame } from '../models/protocol';
import { echoableRequestId, validateChatFrame } from '../models/validate';
import type { JobQueue } from '../queue/job-queue';
import type { ConnectionStore } from '../stores/connection-store';
import type { RequestStore } from '../stores/request-store';
import type { StreamStore } from '../stores/stream-store';
import { newResumeToken, streamKeyOf } from '../models/resume-token';
import { errorFrame } from '../delivery/error-frame';
import type { Replies } from '../delivery/replies';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import type { FrameSender } from '../utils/websocket';
import type { Caller } from '../models/caller';
import type { ActiveGenerations } from './active-generations';
import { subjectKey, type AdmissionTicket, type Admitted, type RateLimiter } from './rate-limit';
import type { ConversationStore } from '../stores/conversation-store';
import type { ConversationTurns, TurnPlan } from './conversation-turn';
import { assertFitsModel } from './model-fit';

export interface MessageServiceDeps {
  readonly config: AppConfig;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly streams: StreamStore;
  readonly replies: Replies;
  readonly queue: JobQueue;
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
  readonly metrics: GatewayMetrics;
  /** A conversation's turns: how the route plans one. */
  readonly turns: ConversationTurns;
  /** Where a cancel by conversation finds its running answer. */
  readonly conversations: ConversationStore;
}

export type AnswerMode = 'stream' | 'chat';

/** Output tokens reserved for a request that names no maxTokens. */
const DEFAULT_OUTPUT_RESERVE = 1000;

/**
 * The route side of a chat request, inside API Gateway's 29 s: validate, admit under the limits,
 * record it, answer `accepted` and queue the generation for a worker (GenerationService).
 */
export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /**
   * Accepts one chat request frame, answering `accepted` with the request's resume token. The
   * frame is validated first; then its id is claimed, the limits are checked and its stream is
   * recorded all at once (one round trip: these writes do not depend on each other). A refusal
   * gives back whatever the others took before it is sent, so a duplicate id or a refused request
   * holds no limit for longer than its refusal. A refusal without the id claimed is thrown,
   * tagged with the request it ends (`requestId`) or, when it ends none, the id it refused
   * (`refusedRequestId`); one with the id claimed is sent, and only then is the id freed.
   */
  async accept(caller: Caller, raw: Record<string, unknown>, mode: AnswerMode): Promise<void> {
    const { requests, limiter, config, sender, queue, streams, replies } = this.deps;
    const frameId = echoableRequestId(raw);
    const requestId = frameId ?? randomUUID();
    const jobId = randomUUID();
    const resumeToken = newResumeToken();
    const streamKey = streamKeyOf(resumeToken);
    const log = caller.log.child({ requestId });
    const { connectionId } = caller;
    let ticket: AdmissionTicket | undefined;
    let plan: TurnPlan | undefined;
    let began = false;
    let opened = false;
    let confirming: Promise<void> | undefined;
    try {
      const frame = validateChatFrame(raw);
      // A whole history is planned without I/O; a conversation's turn takes its conversation first.
      const stateless = frame.data.conversationId === undefined ? this.statelessPlan(frame) : undefined;
      const admit = async (): Promise<Admitted> => {
        plan = stateless ?? (await this.deps.turns.plan(subjectKey(caller), frame, { requestId, jobId, streamKey }, Date.now()));
        if (stateless === undefined) assertFitsModel(config.models[plan.request.modelId], plan.request, plan.inputTokens);
        const [admission, open] = await Promise.allSettled([
          limiter.admit(caller, plan.inputTokens + (plan.request.inferenceConfig.maxTokens ?? DEFAULT_OUTPUT_RESERVE), jobId),
          streams.open(streamKey, { requestId, jobId, userId: caller.userId, mode, target: connectionId }, config.requestTtlSeconds),
        ]);
        ticket = admission.status === 'fulfilled' ? admission.value.ticket : undefined;
        opened = open.status === 'fulfilled';
        if (admission.status === 'rejected') throw admission.reason;
        if (open.status === 'rejected') throw open.reason;
        return admission.value;
      };
      // The id is claimed beside the rest: nothing else depends on it (one round trip for a whole
      // history, two for a conversation's turn, whose admission needs the conversation).
      const [begin, admission] = await Promise.allSettled([requests.begin(connectionId, requestId, jobId, config.requestTtlSeconds, streamKey), admit()]);
      began = begin.status === 'fulfilled' && begin.value;
      // A duplicate id is named before any limit: the frame was never this connection's to run.
      if (begin.status === 'rejected') throw begin.reason;
      if (!began) {
        throw new GatewayError('invalid_request', `requestId "${requestId}" is already running on this connection; this frame was ignored.`, {
          refusedRequestId: requestId,
        });
      }
      if (admission.status === 'rejected') throw admission.reason;
      const { ticket: admitted, confirm } = admission.value;
      const { request, inputTokens, conversation } = plan!;
      // The admission is confirmed beside what follows (no round trip of its own), so admissions
      // that met its holdings while pending refuse for certain.
      confirming = confirm().catch((e: unknown) => log.warn({ err: e }, 'could not confirm the admission; its holdings count as kept once stale'));
      // `accepted` goes out before the job is queued, so no chunk can overtake it.
      await sender.send(connectionId, { type: 'accepted', requestId, modelId: request.modelId, resumeToken });
      const job: Job = {
        version: conversation === undefined ? 1 : 2,
        jobId,
        mode,
        connectionId,
        requestId,
        streamKey,
        receivedAt: caller.receivedAt,
        queuedAt: Date.now(),
        ...(caller.userId !== undefined ? { userId: caller.userId } : {}),
        ...(conversation !== undefined ? { conversation } : {}),
        request,
        owner: subjectKey(caller),
        ...(frame.data.metadata ? { metadata: frame.data.metadata } : {}),
        inputTokens,
        ticket: { ...admitted, slots: [...admitted.slots] },
      };
      await queue.enqueue(job).catch((error: unknown) => {
        throw new GatewayError('internal_error', 'The request could not be queued; please retry.', { retryable: true, cause: error });
      });
      this.deps.metrics.count(METRICS.messages);
      await confirming;
    } catch (error) {
      await confirming;
      await Promise.all([
        // The conversation's running answer was this request's: it runs nothing now.
        plan?.undo().catch((e: unknown) => log.warn({ err: e }, 'could not give the conversation back; its answer time frees it')),
        ticket ? limiter.settle(ticket, 0).catch((e: unknown) => log.warn({ err: e }, 'could not release limits; the slots expire')) : undefined,
        // Nothing to resume: the stream ends at once (retention 0).
        opened ? streams.end(streamKey, errorFrame(toGatewayError(error).forRequest(requestId)), 0, 0).catch(() => undefined) : undefined,
      ]);
      if (!began) {
        const ended = await this.endedBy(caller, frameId);
        const failure = toGatewayError(error);
        throw ended === undefined ? failure.refusing(frameId) : failure.forRequest(ended);
      }
      // This request held its id: its error goes out first (a client gone before `accepted`
      // reached it is recorded as gone) and the id is freed after, so a frame that reused the id
      // meanwhile is refused as a duplicate and never reads as this request's.
      await replies.fail(connectionId, requestId, error, log);
      await requests.end(connectionId, requestId, jobId).catch((e: unknown) => log.warn({ err: e }, 'could not remove the request record; its TTL will'));
    }
  }

  /**
   * Which request a refusal before its id was claimed ends: the frame's id when no request of
   * this connection holds it; none when a live request does (the error then names it as
   * `refusedRequestId` only, so it never reads as the end of that request).
   */
  private async endedBy(caller: Caller, frameId: string | undefined): Promise<string | undefined> {
    if (frameId === undefined) return undefined;
    // If the store cannot tell, the id is taken as free: a client left waiting is worse than a stray end.
    const live = (await this.deps.requests.held(caller.connectionId, frameId).catch(() => undefined)) !== undefined;
    return live ? undefined : frameId;
  }

  /**
   * Sets the cancel flag of a request's stream and stops it at once if it runs in this process.
   * Without a token, the request is the one this connection holds under the id, and only while its
   * answer goes here (one resumed elsewhere is that connection's now). With the request's resume
   * token, it is the request the token names, wherever its answer goes — what a client sends from
   * a new connection for a request it gave up while disconnected. A worker elsewhere sees the flag
   * within CANCEL_CHECK_INTERVAL_MS; a job still queued is cancelled when a worker claims it,
   * before any model call. Cancel is idempotent: a request that has already ended (or never
   * existed, or a wrong token) is left alone, silently — its terminal frame has been or will be
   * sent, and a second one would break the protocol.
   */
  async cancel(caller: Caller, frame: CancelFrame): Promise<void> {
    const { requests, streams, active } = this.deps;
    const { requestId } = frame;
    const token = frame.data?.resumeToken;
    const conversationId = frame.data?.conversationId;
    let cancelled;
    if (token !== undefined || conversationId !== undefined) {
      // The token's stream, or the conversation's running answer when the caller owns it (v1 addition).
      const running = conversationId === undefined ? undefined : (await this.deps.conversations.get(subjectKey(caller), conversationId))?.running;
      const key = token !== undefined ? streamKeyOf(token) : running?.requestId === requestId ? running.streamKey : undefined;
      if (key === undefined) {
        caller.log.debug({ requestId }, 'cancel of a conversation answer that is not running: nothing to do');
        return;
      }
      const meta = await streams.get(key);
      const mine = meta !== undefined && meta.requestId === requestId && meta.userId === caller.userId;
      cancelled = mine ? await streams.cancel(key) : undefined;
    } else {
      const held = await requests.held(caller.connectionId, requestId);
      cancelled = held?.streamKey === undefined ? undefined : await streams.cancel(held.streamKey, caller.connectionId);
    }
    if (cancelled === undefined) {
      caller.log.debug({ requestId }, 'cancel of a request that is not running here: nothing to do');
      return;
    }
    // A generation running in this process is registered under the connection that sent it.
    active.abort(cancelled.targets[0] ?? caller.connectionId, requestId, cancelledError());
  }

  /** A whole history's plan: the request, checked against its model, and its estimate. Nothing to undo. */
  private statelessPlan(frame: ChatRequestFrame): TurnPlan {
    const request = this.resolve(frame, frame.data.messages ?? []);
    const inputTokens = estimatePromptTokens(request);
    assertFitsModel(this.deps.config.models[request.modelId], request, inputTokens);
    return { request, inputTokens, undo: () => Promise.resolve() };
  }

  private resolve(frame: ChatRequestFrame, messages: JobRequest['messages']): JobRequest {
    const { config } = this.deps;
    const modelId = frame.data.modelId ?? config.defaultModelId;
    if (!config.allowedModelIds.includes(modelId)) {
      throw new GatewayError(
        'model_not_allowed',
        `Model "${modelId}" is not allowed. Allowed models: ${config.allowedModelIds.join(', ')}.`,
      );
    }
    const inferenceConfig = frame.data.inferenceConfig ?? {};
    if (inferenceConfig.maxTokens !== undefined && inferenceConfig.maxTokens > config.maxOutputTokens) {
      throw new GatewayError(
        'invalid_request',
        `Invalid request: data.inferenceConfig.maxTokens must be at most ${config.maxOutputTokens}.`,
      );
    }
    if (config.attachments.bucket === undefined) {
      const uploaded = messages.some((m) => typeof m.content !== 'string' && m.content.some((b) => (b.type === 'image' || b.type === 'document') && b.attachmentId !== undefined));
      if (uploaded) throw new GatewayError('invalid_request', `Invalid request: ${ATTACHMENTS_OFF.replace(/\.$/, '')}; inline images still work.`);
    }
    return {
      modelId,
      messages,
      inferenceConfig,
      ...(frame.data.systemPrompt ? { systemPrompt: frame.data.systemPrompt } : {}),
      ...(frame.data.tools ? { tools: frame.data.tools } : {}),
      ...(frame.data.toolChoice ? { toolChoice: frame.data.toolChoice } : {}),
    };
  }
}
