import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { compileOnUse } from '../../src/models/compile-on-use';
import { PingFrameSchema } from '../../src/models/protocol';
import { newConnectionId, newRequestId } from '../../src/local/ids';
import { noSchemaCompilers } from '../../src/routes/no-schema-compilers';
import { withBindings } from '../../src/utils/logger';

describe('what the cold-start and burst cuts keep working', () => {
  it('a route declaring a Fastify schema fails at ready(), naming where frames are checked', async () => {
    const app = Fastify({ schemaController: { compilersFactory: noSchemaCompilers } });
    app.post('/x', { schema: { body: { type: 'object' } } }, () => Promise.resolve('ok'));
    await expect(app.ready()).rejects.toThrow(/models\/validate\.ts/);
    await app.close();
  });

  it('routes without schemas parse and answer JSON as before', async () => {
    const app = Fastify({ schemaController: { compilersFactory: noSchemaCompilers } });
    app.post('/x', (request) => Promise.resolve({ got: request.body }));
    const reply = await app.inject({ method: 'POST', url: '/x', payload: { a: [1, 'b'] } });
    expect(reply.json()).toEqual({ got: { a: [1, 'b'] } });
    await app.close();
  });

  it('withBindings adds fields to a pino child in place, and makes a child of a logger that cannot', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done(); } });
    const root = pino({ level: 'info', base: undefined }, sink);
    const perRequest = root.child({ reqId: 'r-1' });
    const log = withBindings(perRequest, { connectionId: 'c-1', routeKey: 'ping' });
    expect(log).toBe(perRequest);
    log.info('hello');
    root.info('root');
    expect(lines[0]).toMatchObject({ reqId: 'r-1', connectionId: 'c-1', routeKey: 'ping', msg: 'hello' });
    expect(lines[1]).not.toHaveProperty('connectionId'); // the parent is untouched

    const children: Record<string, string>[] = [];
    const plain = { child: (b: Record<string, string>) => { children.push(b); return plain; } } as unknown as typeof root;
    withBindings(plain, { connectionId: 'c-2' });
    expect(children).toEqual([{ connectionId: 'c-2' }]);
  });

  it('ids drawn from the pool keep API Gateway\'s shape and never repeat, across refills', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => (i % 2 ? newConnectionId() : newRequestId()));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a check compiled on first use is compiled once and checks like the schema', () => {
    const ping = compileOnUse(PingFrameSchema);
    expect(ping()).toBe(ping());
    expect(ping().Check({ action: 'ping' })).toBe(true);
    expect(ping().Check({ action: 'pong' })).toBe(false);
  });
});
