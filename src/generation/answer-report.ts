import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import type { Answer } from './answer';

/** The metrics of a completed answer, and its tool calls in the log (names and sizes only: inputs are user data). */
export function reportAnswer(answer: Answer, receivedAt: number, metrics: GatewayMetrics, log: Logger): void {
  if (answer.firstTokenAt !== undefined) metrics.milliseconds(METRICS.timeToFirstToken, answer.firstTokenAt - receivedAt);
  metrics.milliseconds(METRICS.streamDuration, answer.totalMs);
  metrics.count(METRICS.inputTokens, answer.end.usage.inputTokens);
  metrics.count(METRICS.outputTokens, answer.end.usage.outputTokens);
  if (answer.tools.length > 0) log.info({ tools: answer.tools, stopReason: answer.end.stopReason }, 'the model called tools');
}
