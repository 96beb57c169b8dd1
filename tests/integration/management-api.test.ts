import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { LocalGateway } from '../../src/local/emulator';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { startLocal } from '../helpers/local';
import { connectTracked } from '../helpers/local';
import { sleep } from '../helpers/ws-client';

describe('the emulator’s @connections API through the real AWS SDK client', () => {
  let local: LocalGateway;
  let client: ApiGatewayManagementApiClient;
  let connections: MemoryConnectionStore;

  beforeAll(async () => {
    connections = new MemoryConnectionStore();
    local = await startLocal({}, { deps: { connections } });
    client = new ApiGatewayManagementApiClient({
      endpoint: local.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await local.stop();
  });

  it('POST delivers the data to the client as one text message', async () => {
    const { client: ws, connectionId: id } = await connectTracked(local);
    await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{"type":"hello"}') }));
    await ws.waitFor((frames) => frames.length === 1);
    expect(ws.raw).toEqual(['{"type":"hello"}']);
    await ws.close();
  });

  it('GET describes the connection: connectedAt, lastActiveAt and identity', async () => {
    const before = Date.now();
    const { client: ws, connectionId: id } = await connectTracked(local, { headers: { 'User-Agent': 'jest-agent/1.0' } });
    const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
    const after = Date.now();
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'jest-agent/1.0' });
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    // Between the handshake's start and the answer (to the second, as the date format may round).
    expect(info.ConnectedAt!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(info.ConnectedAt!.getTime()).toBeLessThanOrEqual(after);
    expect(info.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt!.getTime());
    await ws.close();
  });

  it('DELETE closes the connection, and $disconnect removes its record', async () => {
    const { client: ws, connectionId: id } = await connectTracked(local);
    expect(await connections.get(id)).toBeDefined();
    await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
    const closed = await ws.closed;
    expect(closed.code).toBe(1000);
    for (let i = 0; i < 50 && (await connections.get(id)); i += 1) await sleep(10);
    expect(await connections.get(id)).toBeUndefined();
  });

  it.each(['POST', 'GET', 'DELETE'])('%s on an unknown connection raises GoneException (410)', async (method) => {
    const unknown = 'Zm9vYmFyL2Jheis='; // contains "/" and "+" like real ids: the SDK must encode it
    const command =
      method === 'POST'
        ? new PostToConnectionCommand({ ConnectionId: unknown, Data: Buffer.from('x') })
        : method === 'GET'
          ? new GetConnectionCommand({ ConnectionId: unknown })
          : new DeleteConnectionCommand({ ConnectionId: unknown });
    const error: unknown = await client.send(command as PostToConnectionCommand).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoneException);
    expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
  });

  it('POST above 128 KB raises PayloadTooLargeException (413)', async () => {
    const { client: ws, connectionId: id } = await connectTracked(local);
    const error: unknown = await client
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(128 * 1024 + 1, 97) }))
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('PayloadTooLargeException');
    await ws.close();
  });

  it('also answers on the stage-less path /@connections/{id}', async () => {
    const { client: ws, connectionId: id } = await connectTracked(local);
    const root = new ApiGatewayManagementApiClient({
      endpoint: local.managementEndpoint.replace(/\/local$/, ''),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await root.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('"root"') }));
    await ws.waitFor((frames) => frames.length === 1);
    expect(ws.raw).toEqual(['"root"']);
    root.destroy();
    await ws.close();
  });
});
