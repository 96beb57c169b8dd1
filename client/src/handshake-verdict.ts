import { GatewayError } from './errors.js';
import type { HandshakeFailure } from './handshake-failure.js';

/** What to do after a failed handshake. */
export type Verdict =
  | { readonly kind: 'retry' }
  /** Open again at once (the token function may give a fresh token; or the host answered a probe). */
  | { readonly kind: 'again' }
  /** Ask whether the gateway's host answers HTTP at all (browsers, which hide why a handshake failed). */
  | { readonly kind: 'probe' }
  /** An outage: retry with backoff, saying why. */
  | { readonly kind: 'unreachable'; readonly error: GatewayError }
  /** A refusal: stop trying. */
  | { readonly kind: 'refused'; readonly error: GatewayError };

/**
 * Tells a refused handshake from network trouble, over a run of attempts: by its HTTP status
 * where the platform shows it (only 401/403 is a refusal), else — a browser — by every attempt
 * failing before any opened while the gateway's host answers HTTP (see Connection's probe). So a
 * gateway that cannot be reached is retried as `unreachable`: offline is not signed out.
 */
export class HandshakeVerdicts {
  /** A connection opened at least once since `connect()`: later failures are the network's. */
  private everOpened = false;
  /** Handshakes failed in a row before any opened. */
  private failures = 0;
  /** Handshakes refused with 401/403 in a row (the token function is asked again after the first). */
  private refusals = 0;
  /** A probe found the gateway's host answering: the next failed handshake is a refusal. */
  private hostAnswers = false;

  constructor(private readonly refusedAfterFailures: number) {}

  /** A fresh `connect()` (`opened` false), or a connection that opened (true): the run starts again. */
  reset(opened: boolean): void {
    this.everOpened = opened;
    this.failures = 0;
    this.refusals = 0;
    this.hostAnswers = false;
  }

  afterFailure(failure: HandshakeFailure): Verdict {
    switch (failure.kind) {
      case 'refused':
        this.refusals += 1;
        if (this.refusals < 2) return { kind: 'again' };
        return { kind: 'refused', error: new GatewayError('unauthorized', `The gateway refused the connection (HTTP ${failure.httpStatus}): the token is missing, invalid or expired.`, { httpStatus: failure.httpStatus }) };
      case 'http':
        return {
          kind: 'unreachable',
          error: new GatewayError('unreachable', `The gateway could not be reached: its host answered the handshake with HTTP ${failure.httpStatus}, not a refused token; retrying (check the URL if it lasts).`, {
            retryable: true,
            httpStatus: failure.httpStatus,
          }),
        };
      case 'network':
        return { kind: 'unreachable', error: new GatewayError('unreachable', `The gateway could not be reached (${failure.reason}); retrying.`, { retryable: true }) };
      case 'unknown':
        break;
    }
    if (this.everOpened) return { kind: 'retry' };
    this.failures += 1;
    if (this.hostAnswers) {
      return { kind: 'refused', error: new GatewayError('unauthorized', `The gateway refused the connection (${this.failures} attempts failed before any opened, the last while its host answers): check the token — or the URL.`) };
    }
    return this.failures >= this.refusedAfterFailures ? { kind: 'probe' } : { kind: 'retry' };
  }

  /**
   * After a probe of a browser's run of failed handshakes. If the host does not answer HTTP either
   * (offline, a name that does not resolve, nothing listening), the outage is the network's. If it
   * answers, one more handshake goes at once: failing too, with the host up a moment before, it is
   * a refusal — while the earlier ones may have failed just before the network came back.
   */
  afterProbe(answers: boolean | undefined): Verdict {
    if (answers === false) {
      return { kind: 'unreachable', error: new GatewayError('unreachable', `The gateway could not be reached (its host does not answer: offline, a name that does not resolve, or nothing listening there); retrying.`, { retryable: true }) };
    }
    if (answers === undefined) {
      // No way to ask (no fetch): the failures alone decide, as they did before there was a probe.
      return { kind: 'refused', error: new GatewayError('unauthorized', `The gateway refused the connection (${this.failures} attempts failed before any opened): check the token — or the URL.`) };
    }
    this.hostAnswers = true;
    return { kind: 'again' };
  }
}
