import { GatewayError } from '../errors.js';

/**
 * The failures that end the answer itself: the gateway ended it (its own error, or nothing left
 * to resume), or this client stopped it there (a cancel, `close()`, a timeout — each sends
 * `llm/cancel`). Only these may forget an answer's resume record. Every other failure only
 * ends this page's view of an answer that goes on: `detached` (a superseded resume, a reader
 * gone), `resumed_elsewhere`, `connection_lost`, `unreachable` (a resume tried while offline),
 * and the refusals of a resume frame itself (`rate_limited`; `invalid_request` for an id the
 * connection holds) — forgetting the record
 * then would lose an answer still running. A record kept too long costs one resume later,
 * answered by the answer's end or `resume_unavailable`, which does forget it.
 */
const ENDS_THE_ANSWER = new Set<GatewayError['code']>([
  'cancelled',
  'closed',
  'request_timeout',
  'upstream_throttled',
  'upstream_error',
  'upstream_timeout',
  'internal_error',
  'resume_unavailable',
  'protocol_error',
]);

export function endsTheAnswer(error: unknown): boolean {
  return error instanceof GatewayError && ENDS_THE_ANSWER.has(error.code);
}
