import type { GatewayMetrics, MetricName } from '../../src/utils/metrics';

/** Records metrics in memory, for assertions. */
export class RecordingMetrics implements GatewayMetrics {
  readonly values: Array<{ name: MetricName; value: number; dimension?: string }> = [];
  flushes = 0;

  count(name: MetricName, value = 1, dimension?: { name: string; value: string }): void {
    this.values.push({ name, value, ...(dimension ? { dimension: `${dimension.name}=${dimension.value}` } : {}) });
  }

  milliseconds(name: MetricName, value: number): void {
    this.values.push({ name, value });
  }

  flush(): void {
    this.flushes += 1;
  }

  total(name: MetricName, dimension?: string): number {
    return this.values.filter((v) => v.name === name && (dimension === undefined || v.dimension === dimension)).reduce((sum, v) => sum + v.value, 0);
  }
}
