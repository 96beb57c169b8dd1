import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The gateway's CloudWatch metrics (namespace `WsLlmGateway`); see docs/DEPLOYING.md, "Observability". */
export const METRICS = {
  /** Count: WebSocket connections opened ($connect accepted). */
  connections: 'Connections',
  /** Count: $disconnect events. */
  disconnections: 'Disconnections',
  /** Count: chat requests accepted and queued. */
  messages: 'Messages',
  /** Milliseconds from the client's frame reaching API Gateway to the first text token. */
  timeToFirstToken: 'TimeToFirstToken',
  /** Milliseconds from the client's frame to the terminal frame of a completed answer. */
  streamDuration: 'StreamDuration',
  /** Milliseconds a job waited in the queue before a worker claimed it. */
  queueWait: 'QueueWait',
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  /** Count of error frames, with a `code` dimension. */
  errors: 'Errors',
  /** Count: posts that found the connection gone (410); the record is then removed. */
  staleConnections: 'StaleConnections',
  /** Count: queue deliveries of a job another worker runs or ran (at-least-once delivery). */
  duplicateJobs: 'DuplicateJobs',
  /** Count: jobs whose worker stopped mid-answer (crash, timeout); the client got an error. */
  interruptedJobs: 'InterruptedJobs',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Records metrics; `flush` writes what an invocation recorded (call it once at its end). */
export interface GatewayMetrics {
  count(name: MetricName, value?: number, dimension?: { readonly name: string; readonly value: string }): void;
  milliseconds(name: MetricName, value: number): void;
  flush(): void;
}

/**
 * Embedded Metric Format through Powertools: metrics are JSON lines in the function's log, which
 * CloudWatch turns into metrics with no API call on the hot path.
 */
export class EmfMetrics implements GatewayMetrics {
  private readonly metrics: Metrics;

  constructor(serviceName: string, namespace = 'WsLlmGateway') {
    this.metrics = new Metrics({ namespace, serviceName });
  }

  count(name: MetricName, value = 1, dimension?: { readonly name: string; readonly value: string }): void {
    if (dimension === undefined) {
      this.metrics.addMetric(name, MetricUnit.Count, value);
      return;
    }
    // A dimension applies to every metric of a blob, so a dimensioned metric goes alone.
    const single = this.metrics.singleMetric();
    single.addDimension(dimension.name, dimension.value);
    single.addMetric(name, MetricUnit.Count, value);
  }

  milliseconds(name: MetricName, value: number): void {
    this.metrics.addMetric(name, MetricUnit.Milliseconds, value);
  }

  flush(): void {
    // Powertools warns on an empty flush; a ping records nothing, and that is normal.
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }

  /** The EMF document the next flush would write (tests). */
  peek(): unknown {
    return this.metrics.serializeMetrics();
  }
}

/** No metrics (local development, where nothing reads EMF lines). */
export class NoMetrics implements GatewayMetrics {
  count(): void {}
  milliseconds(): void {}
  flush(): void {}
}
