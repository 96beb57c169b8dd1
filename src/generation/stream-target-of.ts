import type { AppConfig } from '../config/config';
import type { StreamMeta } from '../stores/stream-store';
import type { Logger } from '../utils/logger';
import type { ConnectionGoneError } from '../utils/websocket';
import { StreamTarget, type StreamTargetDeps } from './stream-target';

/** The stream target of a job: where its frames go and are logged, following resumes. */
export function streamTargetOf(
  deps: Omit<StreamTargetDeps, 'log' | 'graceMs' | 'answerLog' | 'retentionSeconds' | 'onGone'> & { readonly config: AppConfig },
  job: { readonly streamKey: string; readonly requestId: string; readonly jobId: string; readonly connectionId: string },
  meta: StreamMeta | undefined,
  log: Logger,
  onGone: (reason: ConnectionGoneError) => void,
): StreamTarget {
  const { resume, requestTtlSeconds } = deps.config;
  return new StreamTarget(
    {
      ...deps,
      log,
      graceMs: resume.graceSeconds * 1000,
      answerLog: { ttlSeconds: requestTtlSeconds + resume.retentionSeconds, checkpointMs: resume.checkpointMs, checkpointBytes: resume.checkpointBytes },
      retentionSeconds: resume.retentionSeconds,
      onGone,
    },
    job.streamKey,
    job.requestId,
    job.jobId,
    meta ?? { target: job.connectionId, version: 0 },
  );
}
