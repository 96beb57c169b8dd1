import http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../../src/local/dynalite';

export { startDynalite };

export function dynamoClient(endpoint: string, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/**
 * A dynalite for the enclosing `describe`: started in `beforeAll` with a real SDK client on it,
 * both stopped in `afterAll`. Read `endpoint` and `client` inside tests and hooks.
 */
export function useDynalite(): { readonly endpoint: string; readonly client: DynamoDBClient } {
  let dynalite: Awaited<ReturnType<typeof startDynalite>> | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    dynalite = await startDynalite();
    client = dynamoClient(dynalite.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await dynalite?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('dynalite is not started: use it inside tests and hooks');
    return value;
  };
  return {
    get endpoint() {
      return started(dynalite).endpoint;
    },
    get client() {
      return started(client);
    },
  };
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * A loopback proxy in front of a DynamoDB endpoint that answers the first `failures` requests
 * the way DynamoDB throttles (HTTP 400, ProvisionedThroughputExceededException), then forwards.
 */
export function throttlingProxy(target: string, failures: number): Promise<DynamoProxy> {
  return dynamoProxy(target, { failures });
}

/**
 * A loopback proxy in front of a DynamoDB endpoint that answers every request `delayMs` late —
 * plus up to `jitterMs` more, drawn from `random`, so that requests sent together may arrive in
 * any order, as they do at DynamoDB.
 */
export function slowProxy(target: string, delayMs: number, jitter?: { readonly jitterMs: number; readonly random: () => number }): Promise<DynamoProxy> {
  return dynamoProxy(target, { delayMs, ...(jitter ? { extraDelay: () => Math.floor(jitter.random() * jitter.jitterMs) } : {}) });
}

/** A loopback proxy in front of a DynamoDB endpoint that forwards everything and counts operations. */
export function countingProxy(target: string): Promise<DynamoProxy> {
  return dynamoProxy(target, {});
}

export interface DynamoProxy {
  readonly endpoint: string;
  seen(): number;
  /** Requests by operation (the `X-Amz-Target` the SDK sends, e.g. `PutItem`). */
  readonly operations: Map<string, number>;
  /** Every request's operation and when it arrived and was answered (performance.now() ms). */
  readonly calls: Array<{ operation: string; start: number; end: number }>;
  stop(): Promise<void>;
}

async function dynamoProxy(
  target: string,
  { failures = 0, delayMs = 0, extraDelay = () => 0 }: { failures?: number; delayMs?: number; extraDelay?: () => number },
): Promise<DynamoProxy> {
  let seen = 0;
  const operations = new Map<string, number>();
  const calls: DynamoProxy['calls'] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    seen += 1;
    const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop() ?? 'unknown';
    operations.set(operation, (operations.get(operation) ?? 0) + 1);
    const call = { operation, start: performance.now(), end: Number.NaN };
    calls.push(call);
    res.on('finish', () => (call.end = performance.now()));
    const body: Buffer[] = [];
    req.on('data', (part: Buffer) => body.push(part));
    req.on('end', () => void setTimeout(() => {
      if (seen <= failures) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'Rate exceeded' }));
        return;
      }
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.end(Buffer.concat(body));
    }, delayMs + extraDelay()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    seen: () => seen,
    operations,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
