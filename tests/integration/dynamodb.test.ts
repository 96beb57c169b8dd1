import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import disconnectFixture from '../fixtures/events/disconnect.json';
import { loadConfig } from '../../src/config/config';
import { createDeps } from '../../src/deps';
import { ALL_PARTS } from '../../src/entries/all-parts';
import { createGateway } from '../../src/gateway';
import type { LocalGateway } from '../../src/local/emulator';
import type { WsEvent } from '../../src/utils/lambda';
import { DynamoConnectionStore } from '../../src/stores/dynamodb/connection-store';
import { documentClient, dynamoClient, startDynalite } from '../helpers/dynamo';
import { cancelFromAnotherInstance, connectTracked, startLocal } from '../helpers/local';
import { TestClient, until } from '../helpers/ws-client';

const TABLE = 'gateway-it';

describe('the local emulator on the DynamoDB persistence path (dynalite)', () => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  let local: LocalGateway;

  const item = async (connectionId: string) =>
    (await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `CONN#${connectionId}` }, sk: { S: 'CONN' } }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = dynamoClient(dynalite.endpoint);
    // The table does not exist yet: the emulator creates it at start.
    local = await startLocal(
      { DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: TABLE, MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '300' },
      { clients: { dynamoClient: client } },
    );
  });
  afterAll(async () => {
    await local.stop();
    client.destroy();
    await dynalite.stop();
  });

  it('writes the connection with a future ttl on connect and deletes it on disconnect', async () => {
    const { client: ws, connectionId } = await connectTracked(local, { headers: { 'User-Agent': 'dynamo-test' } });
    const stored = await item(connectionId);
    expect(stored).toMatchObject({
      connectionId: { S: connectionId },
      sourceIp: { S: '127.0.0.1' },
      userAgent: { S: 'dynamo-test' },
      stage: { S: 'local' },
    });
    expect(Number(stored!['ttl']!.N)).toBeGreaterThan(Date.now() / 1000 + 2 * 3600);
    await ws.close();
    await until(async () => (await item(connectionId)) === undefined, 'the item to go');
  });

  it('streams and cancels with the shared state in DynamoDB, also from another instance', async () => {
    const { client: ws, connectionId } = await connectTracked(local);
    ws.send({ action: 'llm/stream', requestId: 'd-1', data: { messages: [{ role: 'user', content: 'q' }], inferenceConfig: { maxTokens: 5 } } });
    expect((await ws.terminal('d-1')).type).toBe('done');

    ws.send({ action: 'llm/stream', requestId: 'd-2', data: { messages: [{ role: 'user', content: 'long' }] } });
    await ws.waitFor((frames) => frames.some((f) => f.requestId === 'd-2' && f.type === 'chunk'));
    // Another "Lambda instance": its own app and clients, the same table.
    await cancelFromAnotherInstance(local, connectionId, 'd-2', {
      env: { DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: TABLE },
      clients: { dynamoClient: client },
    });
    expect(await ws.terminal('d-2')).toMatchObject({ type: 'error', code: 'cancelled' });
    await ws.close();
  });
});

describe('store failures', () => {
  it('refuses the handshake with 500 when DynamoDB is unreachable on $connect', async () => {
    const dead = await startDynalite();
    const endpoint = dead.endpoint;
    await dead.stop();
    const unreachable = dynamoClient(endpoint, 1);
    const local = await startLocal({}, { deps: { connections: new DynamoConnectionStore(documentClient(unreachable), TABLE) } });
    try {
      expect(await TestClient.refusal(local.url)).toBe(500);
      expect(local.connectionIds()).toEqual([]);
    } finally {
      await local.stop();
      unreachable.destroy();
    }
  });

  it('fails the start, leaving no port open, when the table cannot be prepared', async () => {
    await expect(startLocal({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', DYNAMODB_MAX_ATTEMPTS: '1' })).rejects.toThrow();
  });

  it('logs and never fails $disconnect when DynamoDB is unreachable', async () => {
    const config = loadConfig(
      { LOG_LEVEL: 'silent', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', DYNAMODB_MAX_ATTEMPTS: '1', JOB_QUEUE_URL: 'http://127.0.0.1:9/000000000000/jobs' },
      { managementEndpoint: 'http://127.0.0.1:9/local' },
    );
    const gateway = await createGateway(createDeps(config, { dynamoClient: dynamoClient('http://127.0.0.1:9', 1) }, ALL_PARTS));
    try {
      expect((await gateway.handler(disconnectFixture as WsEvent)).statusCode).toBe(200);
    } finally {
      await gateway.app.close();
    }
  });
});
