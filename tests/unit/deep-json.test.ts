import pino from 'pino';
import { Writable } from 'node:stream';
import connectFixture from '../fixtures/events/connect.json';
import messageFixture from '../fixtures/events/message.json';
import { LIMITS } from '../../src/models/limits';
import { MAX_JSON_DEPTH } from '../../src/models/validate-depth';
import type { ServerFrame } from '../../src/models/server-frames';
import type { WsEvent } from '../../src/utils/lambda';
import { createUnitGateway, type UnitGateway } from '../helpers/unit-gateway';

const CONNECTION = connectFixture.requestContext.connectionId;
const PINO_ERROR = 50;

/** Where the deep JSON goes in a frame's data; replaced in the frame's text (see frameText). */
const DEEP = '<deep>';

/**
 * JSON text `depth` levels deep: nested arrays `[[[…1…]]]` (two bytes a level) or objects
 * `{"a":{"a":…1…}}`. Written as text: JSON.stringify itself overflows the stack on it.
 */
function deepText(depth: number, of: 'arrays' | 'objects'): string {
  return of === 'arrays' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const user = (content: unknown) => ({ role: 'user', content });
/** A conversation whose assistant turn calls a tool with `input`. */
const withInput = (input: unknown) => ({
  messages: [
    user('q'),
    { role: 'assistant', content: [{ type: 'tool_use', toolUseId: 't1', name: 'f', input }] },
    user([{ type: 'tool_result', toolUseId: 't1', content: 'r' }]),
  ],
});
const withSchema = (properties: unknown) => ({ messages: [user('q')], tools: [{ name: 'f', inputSchema: { type: 'object', properties } }] });
const withMetadata = (metadata: unknown) => ({ messages: [user('q')], metadata });

/** The gateway with a logger that keeps what it writes, so a test sees whether anything logged an error. */
async function gatewayWithLog(): Promise<UnitGateway & { lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const unit = await createUnitGateway({}, { logger: pino({ level: 'info' }, sink) });
  return { ...unit, lines };
}

function event(body: string): WsEvent {
  return { ...messageFixture, body, requestContext: { ...messageFixture.requestContext, routeKey: 'llm/stream' } } as WsEvent;
}

describe('deeply nested JSON in a chat frame, through the handler', () => {
  let unit: Awaited<ReturnType<typeof gatewayWithLog>>;

  beforeEach(async () => {
    unit = await gatewayWithLog();
  });
  afterEach(() => unit.gateway.app.close());

  /** Sends one llm/stream frame with `data` (DEEP in it replaced by `deep`) and returns what the connection got for it. */
  async function send(requestId: string, data: unknown, deep = ''): Promise<ServerFrame[]> {
    const body = JSON.stringify({ action: 'llm/stream', requestId, data }).replace(`"${DEEP}"`, deep);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
    const result = await unit.gateway.handler(event(body));
    expect(result.statusCode).toBe(200);
    return unit.sender.framesFor(CONNECTION).filter((frame) => 'requestId' in frame && frame.requestId === requestId);
  }

  it.each([
    ['a tool call’s input (arrays, in 16 KB)', withInput({ x: DEEP }), deepText(8000, 'arrays'), 'data.messages[1].content[0].input'],
    ['a tool call’s input (objects)', withInput(DEEP), deepText(3000, 'objects'), 'data.messages[1].content[0].input'],
    ['a tool call’s input (arrays, a whole 120 KB message)', withInput({ x: DEEP }), deepText(60_000, 'arrays'), 'data.messages[1].content[0].input'],
    ['a tool’s inputSchema (arrays)', withSchema(DEEP), deepText(8000, 'arrays'), 'data.tools[0].inputSchema'],
    ['a tool’s inputSchema (objects)', withSchema(DEEP), deepText(3000, 'objects'), 'data.tools[0].inputSchema'],
    ['metadata (arrays)', withMetadata({ x: DEEP }), deepText(8000, 'arrays'), 'data.metadata'],
    ['metadata deep but small', withMetadata({ x: DEEP }), deepText(200, 'arrays'), 'data.metadata'],
  ])('%s: one invalid_request naming the field and the depth limit, no error logged, the next request served', async (_what, data, deep, field) => {
    const frames = await send('deep-1', data, deep);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: 'error', code: 'invalid_request', retryable: false });
    const { message } = frames[0] as { message: string };
    expect(message).toContain(`${field} must be JSON nested at most ${MAX_JSON_DEPTH} levels deep`);
    expect(unit.lines.filter((line) => Number(line['level']) >= PINO_ERROR)).toEqual([]);
    const next = await send('after-1', { messages: [user('Hi')] });
    expect(next.at(-1)).toMatchObject({ type: 'done' });
  });

  it(`accepts JSON exactly ${MAX_JSON_DEPTH} levels deep in each field, and refuses one level more`, async () => {
    // The field's own object is level 1 (a scalar is no level): `{ x: <depth - 1 arrays> }` is `depth` deep.
    const inner = deepText(MAX_JSON_DEPTH - 1, 'arrays');
    expect((await send('edge-input', withInput({ x: DEEP }), inner)).at(-1)).toMatchObject({ type: 'done' });
    expect((await send('edge-schema', withSchema(DEEP), inner)).at(-1)).toMatchObject({ type: 'done' });
    expect((await send('edge-metadata', withMetadata({ x: DEEP }), inner)).at(-1)).toMatchObject({ type: 'done' });
    const over = await send('over-1', withInput({ x: DEEP }), deepText(MAX_JSON_DEPTH, 'arrays'));
    expect(over).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_request', message: expect.stringContaining('data.messages[1].content[0].input must be JSON nested') })]);
  });
});
