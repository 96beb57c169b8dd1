/**
 * DynamoDB operations per answer, counted on the wire: the emulator runs on DynamoDB (dynalite)
 * through a loopback proxy that tallies each request's `X-Amz-Target` (the operation name the
 * SDK sends). Answers are paced like the cost table's typical one, so the cancel watch's reads
 * and the stream log's writes come out as they would in AWS.
 */
import { loadLocalServerConfig } from '../src/config/local';
import { startDynalite } from '../src/local/dynalite';
import { startLocalGateway } from '../src/local/emulator';
import { countingProxy } from '../tests/helpers/dynamo';
import { TestClient } from '../tests/helpers/ws-client';


export interface DynamoOpsResults {
  readonly answers: number;
  readonly tokensPerAnswer: number;
  readonly tokenDelayMs: number;
  /** Operation name → count per answer (the connection's own operations left out). */
  readonly perAnswer: Readonly<Record<string, number>>;
}

export async function measureDynamoOps(answers = 10, tokensPerAnswer = 500, tokenDelayMs = 20): Promise<DynamoOpsResults> {
  const dynalite = await startDynalite();
  const proxy = await countingProxy(dynalite.endpoint);
  const env = {
    LOG_LEVEL: 'silent',
    DYNAMODB_ENDPOINT: proxy.endpoint,
    MOCK_TOKEN_DELAY_MS: String(tokenDelayMs),
    MOCK_ANSWER_TOKENS: String(tokensPerAnswer),
    MAX_CONCURRENT_PER_CONNECTION: String(answers),
    MAX_CONCURRENT_PER_USER: String(answers),
  };
  const local = await startLocalGateway({ server: loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1' }), env });
  try {
    const client = await TestClient.connect(local.url);
    // Settle the connection's own writes, then count from zero.
    client.send({ action: 'ping', requestId: 'settle' });
    await client.waitFor((frames) => frames.some((f) => f.type === 'pong'));
    proxy.operations.clear();
    const ids = Array.from({ length: answers }, (_, i) => `ops-${i}`);
    for (const id of ids) client.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: id }] } });
    const ends = await Promise.all(ids.map((id) => client.terminal(id, 120_000)));
    const bad = ends.filter((frame) => frame.type !== 'done');
    if (bad.length > 0) throw new Error(`dynamo ops bench: ${bad.length} answers did not end with done`);
    // The worker settles slots and the request after `done`; give those writes time to land.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const counted = new Map(proxy.operations);
    await client.close();
    const perAnswer = Object.fromEntries([...counted].sort(([a], [b]) => a.localeCompare(b)).map(([op, n]) => [op, n / answers]));
    return { answers, tokensPerAnswer, tokenDelayMs, perAnswer };
  } finally {
    await local.stop();
    await proxy.stop();
    await dynalite.stop();
  }
}

/** The report's section on DynamoDB operations, with their on-demand cost. */
export function dynamoOpsSection(dynamoOps: DynamoOpsResults): string[] {
  const sum = (ops: string[]): number => ops.reduce((total, op) => total + (dynamoOps.perAnswer[op] ?? 0), 0);
  const dynamoReads = sum(['GetItem', 'Query']);
  const dynamoWrites = sum(['PutItem', 'UpdateItem', 'DeleteItem']);
  const dynamoCost = (dynamoWrites * 0.625 + dynamoReads * 0.125) / 1000;
  return [
    '## DynamoDB operations per answer',
    '',
    `Counted on the wire: the emulator on DynamoDB (dynalite) behind a loopback proxy that tallies each request's`,
    `\`X-Amz-Target\`; ${dynamoOps.answers} answers of ${dynamoOps.tokensPerAnswer} tokens at ${dynamoOps.tokenDelayMs} ms a token (the cost table's typical 10 s answer), defaults`,
    'otherwise (cancel watch every 500 ms, resumability on). The connection\'s own operations are left out.',
    '',
    '| Operation | Per answer | Per 1,000 answers |',
    '| --- | --- | --- |',
    ...Object.entries(dynamoOps.perAnswer).map(([op, n]) => `| ${op} | ${n.toFixed(1)} | ${(n * 1000).toFixed(0)} |`),
    '',
    `${(dynamoWrites * 1000).toFixed(0)} writes and ${(dynamoReads * 1000).toFixed(0)} reads per 1,000 answers: $${dynamoCost.toFixed(3)} if each were one unit at on-demand prices. What DynamoDB`,
    'bills is counted in units (a log checkpoint over 1 KB is more than one, an eventually consistent read half of one) in',
    '"Cost and latency per answer" below, from which docs/DEPLOYING.md\'s cost table is taken.',
    '',
  ];
}
