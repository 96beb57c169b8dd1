import { GatewayError, toGatewayError } from '../models/errors';
import { CLIENT_ACTIONS } from '../models/protocol';
import type { ErrorFrame, ServerFrame } from '../models/server-frames';
import type { ConnectionStore } from '../stores/connection-store';
import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import { ConnectionGoneError, FrameTooLargeError, type FrameSender } from '../utils/websocket';
import { errorFrame } from './error-frame';

export interface RepliesDeps {
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly metrics: GatewayMetrics;
}

/**
 * The one way out to clients, for both entries (route and worker): every reply and terminal
 * frame is posted here, and every failure becomes its `error` frame (or, with no client to
 * talk to yet, its status) here — counted once (`Errors` by code, `StaleConnections`), logged by
 * one policy. Nothing here throws: a client that has gone is a fact to record, not an error.
 */
export class Replies {
  constructor(private readonly deps: RepliesDeps) {}

  /** Posts one frame. Returns false when it was not delivered (the client has gone, or the post failed). */
  async send(connectionId: string, frame: ServerFrame, log: Logger): Promise<boolean> {
    try {
      await this.deps.sender.send(connectionId, frame);
      return true;
    } catch (error) {
      if (error instanceof ConnectionGoneError) await this.gone(connectionId, log);
      else log.warn({ err: error, frame: frame.type }, 'could not deliver a frame');
      return false;
    }
  }

  /**
   * Posts the frame that ends a request. Should API Gateway refuse it as too large — it cannot,
   * every terminal frame is built to fit, but the promise is one terminal frame per request — the
   * request is ended with an `internal_error` instead, and the defect logged.
   */
  async sendEnd(connectionId: string, terminal: ServerFrame, log: Logger): Promise<boolean> {
    try {
      await this.deps.sender.send(connectionId, terminal);
      return true;
    } catch (error) {
      if (error instanceof ConnectionGoneError) await this.gone(connectionId, log);
      else if (error instanceof FrameTooLargeError && terminal.type !== 'error' && 'requestId' in terminal) {
        log.error({ err: error, frame: terminal.type }, 'the terminal frame was refused as too large; ending the request with an error instead');
        const failure = new GatewayError('internal_error', 'The end of the answer could not be delivered; please retry.', { retryable: true });
        return this.send(connectionId, this.frameFor(terminal.requestId, failure, log), log);
      } else log.warn({ err: error, frame: terminal.type }, 'could not deliver a frame');
      return false;
    }
  }

  /**
   * Answers a failure with its error frame. The frame names `requestId` (the request this
   * failure ends) unless the error is a refusal that ends none (it then names `refusedRequestId`).
   */
  async fail(connectionId: string, requestId: string | undefined, reason: unknown, log: Logger): Promise<void> {
    if (reason instanceof ConnectionGoneError) {
      await this.gone(connectionId, log);
      return;
    }
    await this.send(connectionId, this.frameFor(requestId, reason, log), log);
  }

  /**
   * The error frame that ends request `requestId` for `reason`, counted and logged as `fail`
   * does, for a caller that delivers it itself (a resumable stream logs it first).
   */
  frameFor(requestId: string | undefined, reason: unknown, log: Logger): ErrorFrame {
    if (reason instanceof ConnectionGoneError) {
      // Not a failure of ours (already counted as a stale connection): what a resume after the end gets.
      const stopped = new GatewayError('internal_error', 'The connection was gone for longer than the answer could wait; it was stopped.', { retryable: true });
      return errorFrame(stopped.forRequest(requestId));
    }
    const error = this.record(reason, log).forRequest(requestId);
    return errorFrame(error, error.code === 'unknown_action' ? { validActions: CLIENT_ACTIONS } : {});
  }

  /**
   * The HTTP status for a failed `$connect` or `$disconnect`, where no client listens for frames:
   * 429 at a limit (the handshake passes it on), 500 otherwise.
   */
  status(reason: unknown, log: Logger): number {
    return this.record(reason, log, false).code === 'rate_limited' ? 429 : 500;
  }

  /** The one log and metric policy for failures (`Errors` counts error frames). */
  private record(reason: unknown, log: Logger, frame = true): GatewayError {
    const error = toGatewayError(reason);
    if (frame) this.deps.metrics.count(METRICS.errors, 1, { name: 'code', value: error.code });
    // What an operator must fix (ours, or an upstream error no retry mends) is an error; the rest is traffic.
    if (error.code === 'internal_error' || (error.code.startsWith('upstream_') && !error.retryable)) {
      log.error({ err: reason, code: error.code }, 'request failed');
    } else {
      log.info({ code: error.code, err: error.cause ?? error }, 'request ended with an error');
    }
    return error;
  }

  /** A client that has gone: counted, and its connection record removed. */
  async gone(connectionId: string, log: Logger): Promise<void> {
    this.deps.metrics.count(METRICS.staleConnections);
    log.info('connection gone: its record is removed');
    await this.deps.connections.delete(connectionId).catch((error: unknown) => {
      log.warn({ err: error }, 'could not remove the stale connection record; its TTL will');
    });
  }
}
