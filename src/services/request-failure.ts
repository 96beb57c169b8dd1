import { toGatewayError } from '../models/errors';
import type { ConnectionStore } from '../stores/connection-store';
import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import { ConnectionGoneError, type FrameSender } from '../utils/websocket';
import { errorFrame } from './error-frame';

/**
 * Ends a request that failed: one `error` frame for a client still there, or, for a client
 * that has gone, removal of its connection record. Never throws. The frame carries `requestId`
 * unless the error is a refusal that ends no request (it then names `refusedRequestId`).
 */
export async function reportFailure(
  deps: { readonly sender: FrameSender; readonly connections: ConnectionStore; readonly metrics: GatewayMetrics },
  connectionId: string,
  requestId: string | undefined,
  reason: unknown,
  log: Logger,
): Promise<void> {
  if (reason instanceof ConnectionGoneError) {
    deps.metrics.count(METRICS.staleConnections);
    log.info('connection gone: request stopped, connection record removed');
    await deps.connections.delete(connectionId).catch((error: unknown) => {
      log.warn({ err: error }, 'could not remove the stale connection record; its TTL will');
    });
    return;
  }
  const error = toGatewayError(reason).forRequest(requestId);
  deps.metrics.count(METRICS.errors, 1, { name: 'code', value: error.code });
  // What an operator must fix (ours, or an upstream error no retry mends) is an error; the rest is traffic.
  if (error.code === 'internal_error' || (error.code.startsWith('upstream_') && !error.retryable)) log.error({ err: reason }, 'request failed');
  else log.info({ code: error.code, err: error.cause ?? error }, 'request ended with an error frame');
  await deps.sender.send(connectionId, errorFrame(error)).catch((sendError: unknown) => {
    log.warn({ err: sendError }, 'could not deliver the error frame');
  });
}
