import type { AppConfig } from '../config/config';
import type { ChatModel, ChatModelEvent } from '../llm/chat-model';
import { GatewayError } from '../models/errors';
import type { ResponseFrame } from '../models/frames';
import type { Job } from '../models/job';
import { LIMITS } from '../models/limits';
import type { ConnectionStore } from '../stores/connection-store';
import type { Claim, RequestStore } from '../stores/request-store';
import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import { ConnectionGoneError, type FrameSender } from '../utils/websocket';
import type { ActiveGenerations } from './active-generations';
import { ChunkStream } from './chunk-stream';
import { splitToFit } from './frame-split';
import type { RateLimiter } from './rate-limit';
import { reportFailure } from './request-failure';

export interface GenerationServiceDeps {
  readonly config: AppConfig;
  readonly model: ChatModel;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
  readonly metrics: GatewayMetrics;
}

/** One delivery of a job to a worker. */
export interface Delivery {
  /** Epoch ms by which the generation must end: the invocation's timeout minus a margin. */
  readonly deadlineAt: number;
  /** How often the queue has delivered this job (1 the first time). */
  readonly receiveCount: number;
  readonly log: Logger;
}

interface Generation {
  readonly job: Job;
  readonly signal: AbortSignal;
  readonly abort: (reason: unknown) => void;
  readonly log: Logger;
  readonly progress: Progress;
}

/** What a generation has used so far, for settling the token budget however it ends. */
interface Progress {
  producedChars: number;
  usedTokens: number | undefined;
}

type EndEvent = Extract<ChatModelEvent, { type: 'end' }>;

export function cancelledError(): GatewayError {
  return new GatewayError('cancelled', 'The request was cancelled.');
}

/**
 * The worker side of a chat request: claims the queued job (so a redelivery never streams twice),
 * runs the model, delivers the answer and ends every request with exactly one terminal frame
 * (`done`, `response` or `error`) unless the client has gone.
 */
export class GenerationService {
  constructor(private readonly deps: GenerationServiceDeps) {}

  /**
   * Runs one delivery of a job. Throws only when the job could not be claimed (the store
   * failed): the queue then delivers it again, and on the last delivery the client is told.
   */
  async run(job: Job, delivery: Delivery): Promise<void> {
    const { requests, config, metrics } = this.deps;
    const { connectionId, requestId, jobId } = job;
    const log = delivery.log.child({ connectionId, requestId, jobId, ...(job.userId !== undefined ? { userId: job.userId } : {}) });
    let claim: Claim;
    try {
      claim = await requests.claim(connectionId, requestId, jobId, delivery.deadlineAt + config.worker.timeMarginMs);
    } catch (error) {
      if (delivery.receiveCount >= config.queue.maxReceiveCount) {
        // The last delivery: the job goes to the dead-letter queue, and the client must not wait.
        const failure = new GatewayError('internal_error', 'The answer could not be started; please retry.', { retryable: true, cause: error });
        await reportFailure(this.deps, connectionId, requestId, failure, log);
        await this.settle(job, 0, log);
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
      await reportFailure(this.deps, connectionId, requestId, failure, log);
      await this.settle(job, job.ticket.reservedTokens, log);
      await this.end(job, log);
      return;
    }
    metrics.milliseconds(METRICS.queueWait, Math.max(0, Date.now() - job.queuedAt));
    await this.generate(job, claim.cancelled, delivery.deadlineAt, log);
  }

  private async generate(job: Job, cancelledWhileQueued: boolean, deadlineAt: number, log: Logger): Promise<void> {
    const { connectionId, requestId } = job;
    const controller = new AbortController();
    const progress: Progress = { producedChars: 0, usedTokens: undefined };
    this.deps.active.register(connectionId, requestId, controller);
    const stopPolling = this.pollCancel(connectionId, requestId, controller, log);
    // Ends the answer cleanly before the invocation times out, rather than dying mid-stream.
    const deadline = setTimeout(
      () => controller.abort(new GatewayError('upstream_timeout', 'The answer reached the gateway’s time limit for one generation.')),
      Math.max(0, deadlineAt - Date.now()),
    );
    try {
      if (cancelledWhileQueued) throw cancelledError();
      const generation: Generation = { job, signal: controller.signal, abort: (reason) => controller.abort(reason), log, progress };
      if (job.mode === 'stream') await this.streamAnswer(generation);
      else await this.chatAnswer(generation);
    } catch (error) {
      await reportFailure(this.deps, connectionId, requestId, controller.signal.aborted ? controller.signal.reason : error, log);
    } finally {
      clearTimeout(deadline);
      stopPolling();
      this.deps.active.unregister(connectionId, requestId);
      // Whatever ended the generation — done, error, cancel, a crash — its slots are given back
      // and its token reservation settles to the usage reported, or else estimated.
      await this.settle(job, progress.usedTokens ?? job.inputTokens + Math.ceil(progress.producedChars / 4), log);
      await this.end(job, log);
    }
  }

  private async settle(job: Job, usedTokens: number, log: Logger): Promise<void> {
    await this.deps.limiter.settle(job.ticket, usedTokens).catch((error: unknown) => {
      log.warn({ err: error }, 'could not settle limits; the counters expire');
    });
  }

  private async end(job: Job, log: Logger): Promise<void> {
    await this.deps.requests.end(job.connectionId, job.requestId, job.jobId).catch((error: unknown) => {
      log.warn({ err: error }, 'could not remove the request record; its TTL will');
    });
  }

  private async streamAnswer(g: Generation): Promise<void> {
    const { sender, config } = this.deps;
    const { connectionId, requestId, receivedAt } = g.job;
    const chunks = new ChunkStream({
      requestId,
      post: (frame) => sender.send(connectionId, frame),
      onFailure: g.abort,
      flushIntervalMs: config.stream.flushIntervalMs,
      flushBytes: config.stream.flushBytes,
    });
    let firstTokenAt: number | undefined;
    try {
      const end = await this.consume(g, (text) => {
        firstTokenAt ??= Date.now();
        chunks.write(text);
      });
      await chunks.end();
      const totalMs = Date.now() - receivedAt;
      await sender.send(connectionId, {
        type: 'done',
        requestId,
        seq: chunks.sent,
        modelId: end.modelId,
        stopReason: end.stopReason,
        usage: end.usage,
        metrics: { timeToFirstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - receivedAt, totalMs },
        ...(g.job.metadata ? { metadata: g.job.metadata } : {}),
      });
      this.completed(end, firstTokenAt, totalMs, receivedAt);
    } catch (error) {
      const reason: unknown = g.signal.aborted ? g.signal.reason : error;
      // Text the model already produced reaches the client before the error frame does.
      if (!(reason instanceof ConnectionGoneError)) await chunks.end().catch(() => undefined);
      throw reason;
    } finally {
      chunks.close();
    }
  }

  private async chatAnswer(g: Generation): Promise<void> {
    const { requestId, connectionId, receivedAt } = g.job;
    let content = '';
    let firstTokenAt: number | undefined;
    const end = await this.consume(g, (text) => {
      firstTokenAt ??= Date.now();
      content += text;
    });
    const last = (piece: string, part: number, parts: number): ResponseFrame => ({
      type: 'response',
      requestId,
      part,
      parts,
      content: piece,
      modelId: end.modelId,
      stopReason: end.stopReason,
      usage: end.usage,
      ...(g.job.metadata ? { metadata: g.job.metadata } : {}),
    });
    // Sized as the last part (the largest shape), so every part fits the message limit.
    const pieces = splitToFit(content, LIMITS.maxMessageBytes - 1024, (piece) => last(piece, 999_999, 999_999));
    for (const [part, piece] of pieces.entries()) {
      const frame: ResponseFrame =
        part === pieces.length - 1 ? last(piece, part, pieces.length) : { type: 'response', requestId, part, parts: pieces.length, content: piece };
      await this.deps.sender.send(connectionId, frame);
    }
    this.completed(end, firstTokenAt, Date.now() - receivedAt, receivedAt);
  }

  private completed(end: EndEvent, firstTokenAt: number | undefined, totalMs: number, receivedAt: number): void {
    const { metrics } = this.deps;
    if (firstTokenAt !== undefined) metrics.milliseconds(METRICS.timeToFirstToken, firstTokenAt - receivedAt);
    metrics.milliseconds(METRICS.streamDuration, totalMs);
    metrics.count(METRICS.inputTokens, end.usage.inputTokens);
    metrics.count(METRICS.outputTokens, end.usage.outputTokens);
  }

  /** Feeds the model's text to `onText` and returns its end event. */
  private async consume(g: Generation, onText: (text: string) => void): Promise<EndEvent> {
    let end: EndEvent | undefined;
    for await (const event of this.deps.model.stream(g.job.request, g.signal)) {
      if (event.type === 'delta') {
        g.progress.producedChars += event.text.length;
        onText(event.text);
      } else {
        end = event;
        g.progress.usedTokens = event.usage.totalTokens;
      }
    }
    // An SDK stream ends silently when aborted: never report that as a complete answer.
    g.signal.throwIfAborted();
    if (end === undefined) throw new GatewayError('upstream_error', 'The model ended its answer without a stop reason.');
    return end;
  }

  /**
   * Polls the shared cancel flag, so a cancel handled by another invocation (the route Lambda)
   * stops this generation within one interval. The poll stops with the generation.
   */
  private pollCancel(connectionId: string, requestId: string, controller: AbortController, log: Logger): () => void {
    const interval = this.deps.config.stream.cancelCheckIntervalMs;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      try {
        if (await this.deps.requests.isCancelled(connectionId, requestId)) controller.abort(cancelledError());
      } catch (error) {
        log.warn({ err: error }, 'cancel flag check failed');
      }
      if (!stopped && !controller.signal.aborted) timer = setTimeout(() => void tick(), interval);
    };
    if (interval > 0) timer = setTimeout(() => void tick(), interval);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}
