import type { Connection } from './connection.js';
import { GatewayError } from './errors.js';
import { randomId } from './keepalive.js';
import type { ChatData, ServerFrame } from './protocol.generated.js';
import { PendingCancels } from './pending-cancels.js';
import { errorOf, PendingRequest, type GatewayStream, type ResumeTarget } from './request.js';
import type { RequestOptions } from './types.js';

/** An answer this or another client started, to resume (by its token, or its conversation): sent as `llm/resume` from `fromSeq`. */
export type ResumeOf = ResumeTarget & { readonly fromSeq: number };

/**
 * The requests in flight on a client's connection: sent when it is open, resumed from the last
 * chunk delivered after a reconnect, timed out when the gateway does not answer, and — when this
 * client gives one up — cancelled on the gateway as soon as a cancel can reach it.
 */
export class Requests {
  private readonly pending = new Map<string, PendingRequest>();
  // Long enough for a reconnect with backoff; a request the gateway still runs after that has
  // been stopped by its own grace time.
  private readonly cancels = new PendingCancels(10 * 60_000);

  constructor(
    private readonly connection: Pick<Connection, 'status' | 'send' | 'connect'>,
    private readonly requestTimeoutMs: number,
  ) {}

  start(mode: 'stream' | 'chat', data: ChatData, options: RequestOptions, resumeOf?: ResumeOf): PendingRequest {
    const requestId = options.requestId ?? randomId();
    const frame = { action: mode === 'chat' ? 'llm/chat' : 'llm/stream', requestId, data };
    const request = new PendingRequest(requestId, frame, mode, () => {
      if (this.pending.get(requestId) === request) this.pending.delete(requestId);
    });
    if (resumeOf !== undefined) {
      // Already accepted elsewhere: it is sent as `llm/resume` from `fromSeq`, never as a request.
      if ('resumeToken' in resumeOf) request.resumeToken = resumeOf.resumeToken;
      else request.conversationId = resumeOf.conversationId;
      request.startAt(resumeOf.fromSeq);
      request.everSent = true;
    }
    request.onAccepted = options.onAccepted;
    request.onResumed = options.onResumed;
    const { signal } = options;
    if (signal?.aborted) {
      request.fail(new GatewayError('cancelled', 'The request was cancelled.', { requestId }));
      return request;
    }
    if (this.pending.has(requestId)) {
      // The gateway would refuse it, and its frames could not be told from the running one's.
      request.fail(new GatewayError('invalid_request', `requestId "${requestId}" is already in use by a request of this client.`, { requestId }));
      return request;
    }
    signal?.addEventListener('abort', () => this.cancel(request), { once: true });
    this.pending.set(requestId, request);
    if (this.connection.status === 'open') this.send(request);
    else {
      // Waits (bounded) for the connection instead of failing at once.
      this.connection.connect().catch((error: unknown) => request.fail(error instanceof GatewayError ? error : new GatewayError('connection_lost', String(error))));
    }
    return request;
  }

  /** Stops delivering `stream` here without cancelling it on the gateway (see GatewayClient.detach). */
  detach(stream: GatewayStream): void {
    const request = this.pending.get(stream.requestId);
    if (request === undefined || request !== stream) return;
    request.fail(new GatewayError('detached', 'The answer was detached from this client; it goes on on the gateway.', { requestId: request.requestId }));
  }

  /** Ends every request (GatewayError `closed`), the gateway told to stop each — before the socket closes. */
  closeAll(): void {
    for (const request of [...this.pending.values()]) {
      this.giveUp(request);
      request.fail(new GatewayError('closed', 'The client was closed.', { requestId: request.requestId }));
    }
  }

  /** A socket opened: owed cancels first, then every pending request (a resume for an accepted one). */
  opened(): void {
    this.sendCancels();
    for (const request of this.pending.values()) this.send(request);
  }

  closed(): void {
    for (const request of [...this.pending.values()]) {
      // Sent but never accepted: the gateway may or may not have taken it, and a resend could
      // run it twice; it ends here (retryable). An accepted one is resumed after the reconnect.
      if (request.sent && request.resumeTarget === undefined) {
        request.fail(new GatewayError('connection_lost', 'The connection closed before the request was accepted.', { retryable: true, requestId: request.requestId }));
      }
      request.sent = false;
    }
  }

  /** The gateway refused the connection: nothing pending can go on (no token gets through). */
  refused(error: GatewayError): void {
    for (const request of [...this.pending.values()]) {
      request.fail(new GatewayError(error.code, error.message, { requestId: request.requestId, ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}) }));
    }
  }

  /** A frame from the gateway (not an upload's). */
  receive(frame: ServerFrame): void {
    if (frame.type === 'error' && frame.requestId === undefined && frame.refusedRequestId !== undefined) {
      this.onRefusal(frame.refusedRequestId, frame);
      return;
    }
    if (!('requestId' in frame) || frame.requestId === undefined) return;
    const request = this.pending.get(frame.requestId);
    if (request === undefined) {
      this.onAbandoned(frame.requestId, frame);
      return;
    }
    if (request.receive(frame) === 'gap') {
      // Chunks went missing: ask for them again from the first one not delivered.
      request.sent = false;
      if (request.resumeTarget !== undefined) this.send(request);
      else request.fail(new GatewayError('protocol_error', 'Chunks arrived out of order.', { requestId: request.requestId }));
    }
  }

  private cancel(request: PendingRequest): void {
    if (request.settled) return;
    this.giveUp(request);
    request.fail(new GatewayError('cancelled', 'The request was cancelled.', { requestId: request.requestId }));
  }

  /**
   * This client stops waiting for a request the gateway may be running: its `llm/cancel` is sent
   * now when it can reach it, else from the next connection (with the resume token, which reaches
   * it wherever it runs), so the model stops and the user's slot is freed.
   */
  private giveUp(request: PendingRequest): void {
    if (!request.everSent) return;
    this.cancels.add(request.requestId, request.resumeTarget);
    this.sendCancels();
  }

  private sendCancels(): void {
    if (this.connection.status !== 'open') return;
    for (const frame of this.cancels.take()) this.connection.send(frame);
  }

  /** Sends a request on the open connection: its frame the first time, a resume after a reconnect. */
  private send(request: PendingRequest): void {
    if (request.sent) return;
    const target = request.resumeTarget;
    const resuming = target !== undefined;
    const frame = resuming ? { action: 'llm/resume', requestId: request.requestId, data: { ...target, fromSeq: request.nextSeq } } : request.frame;
    let sent: boolean;
    try {
      sent = this.connection.send(frame);
    } catch (error) {
      // Too large to send (payload_too_large): this request fails, never sent; the connection and the others go on.
      request.fail(error instanceof GatewayError ? new GatewayError(error.code, error.message, { requestId: request.requestId }) : new GatewayError('protocol_error', String(error), { requestId: request.requestId }));
      return;
    }
    if (!sent) return;
    request.sent = true;
    request.everSent = true;
    request.resuming = resuming;
    // A gateway that never answers must not leave the caller waiting forever.
    request.awaitAnswer(this.requestTimeoutMs, () => {
      if (request.settled) return;
      this.giveUp(request);
      const what = resuming ? 'resume' : 'request';
      request.fail(new GatewayError('request_timeout', `The gateway did not answer the ${what} within ${this.requestTimeoutMs} ms.`, { retryable: true, requestId: request.requestId }));
    });
  }

  /**
   * A frame of ours was refused without ending the request its id names on the gateway (which
   * holds that id on this connection): a request or resume of a pending request cannot go on, so
   * it fails with the refusal, and the gateway's request is cancelled.
   */
  private onRefusal(requestId: string, frame: Extract<ServerFrame, { type: 'error' }>): void {
    const request = this.pending.get(requestId);
    if (request === undefined || request.settled) return;
    if (request.resumeTarget === undefined || request.resuming) {
      this.giveUp(request);
      request.fail(errorOf({ ...frame, requestId }));
    }
  }

  /** A frame of a request this client gave up: its `accepted` lets the owed cancel carry the token. */
  private onAbandoned(requestId: string, frame: ServerFrame): void {
    if (!this.cancels.has(requestId)) return;
    if (frame.type === 'accepted') {
      this.cancels.accepted(requestId, frame.resumeToken);
      this.sendCancels();
    } else if (frame.type === 'done' || frame.type === 'error' || (frame.type === 'response' && frame.part === frame.parts - 1)) {
      this.cancels.ended(requestId);
    }
  }
}
