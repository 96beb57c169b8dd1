/**
 * A loopback proxy in front of dynalite that counts what DynamoDB would bill: each request gets
 * `ReturnConsumedCapacity: TOTAL` added on its way through, and the units the answer reports
 * (dynalite sizes items the way DynamoDB does: writes per 1 KB, reads per 4 KB, an eventually
 * consistent read half) are tallied by operation. A conditional write that fails is billed too,
 * one unit here (every item this gateway writes conditionally is under 1 KB). Copied into the
 * previous version's tree by the cost bench, so it imports nothing from the project.
 */
import http from 'node:http';

export interface CapacityTally {
  /** Requests by operation. */
  readonly operations: Map<string, number>;
  /** Write and read request units by operation. */
  readonly units: Map<string, number>;
}

export interface CapacityProxy extends CapacityTally {
  readonly endpoint: string;
  reset(): void;
  stop(): Promise<void>;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const METERED = new Set([...WRITES, 'GetItem', 'Query']);

export async function capacityProxy(target: string): Promise<CapacityProxy> {
  const operations = new Map<string, number>();
  const units = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number): void => void map.set(key, (map.get(key) ?? 0) + n);
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop() ?? 'unknown';
    add(operations, operation, 1);
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (METERED.has(operation)) {
        const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        body = Buffer.from(JSON.stringify({ ...request, ReturnConsumedCapacity: 'TOTAL' }));
      }
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
        const answered: Buffer[] = [];
        answer.on('data', (part: Buffer) => answered.push(part));
        answer.on('end', () => {
          const text = Buffer.concat(answered).toString('utf8');
          if (METERED.has(operation)) {
            const parsed = JSON.parse(text || '{}') as { ConsumedCapacity?: { CapacityUnits?: number }; __type?: string };
            const consumed = parsed.ConsumedCapacity?.CapacityUnits ?? (WRITES.has(operation) && String(parsed.__type).endsWith('ConditionalCheckFailedException') ? 1 : 0);
            add(units, operation, consumed);
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(answered));
        });
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    operations,
    units,
    reset: () => {
      operations.clear();
      units.clear();
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
