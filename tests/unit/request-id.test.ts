import { Writable } from 'node:stream';
import pino from 'pino';
import messageFixture from '../fixtures/events/message.json';
import type { WsEvent } from '../../src/utils/lambda';
import { createUnitGateway } from '../helpers/unit-gateway';

describe('log lines of an event', () => {
  it('carry API Gateway’s requestId as Fastify’s request id, with the connection and route', async () => {
    // Prepare: a logger that keeps its lines
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, next) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), next()) });
    const logger = pino({ level: 'info', base: undefined }, sink);
    const { gateway } = await createUnitGateway({}, { logger });
    try {
      // Act: a message that is refused, so the handler logs one line
      const event = { ...messageFixture, body: '{"action":"nope"}', requestContext: { ...messageFixture.requestContext, routeKey: '$default' } } as WsEvent;
      await gateway.handler(event);
      // Assess
      const line = lines.find((l) => l['routeKey'] === '$default');
      expect(line).toMatchObject({ reqId: messageFixture.requestContext.requestId, connectionId: messageFixture.requestContext.connectionId, code: 'unknown_action' });
    } finally {
      await gateway.app.close();
    }
  });
});
