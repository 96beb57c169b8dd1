import fc from 'fast-check';
import messageFixture from '../fixtures/events/message.json';
import type { Gateway } from '../../src/gateway';
import { ROUTE_KEYS } from '../../src/handlers';
import { selectRoute } from '../../src/local/events';
import { MockChatModel } from '../../src/llm/mock';
import type { ServerFrame } from '../../src/models/server-frames';
import type { WsEvent } from '../../src/utils/lambda';
import type { RecordingSender } from '../helpers/recording-sender';
import { createUnitGateway } from '../helpers/unit-gateway';
import { seedFromEnv } from '../helpers/seed';

const ME = messageFixture.requestContext.connectionId;
const MESSAGE_ROUTES = ROUTE_KEYS.filter((key) => key !== '$connect' && key !== '$disconnect');

function event(routeKey: string, body: string, isBase64Encoded = false): WsEvent {
  return { ...messageFixture, body, isBase64Encoded, requestContext: { ...messageFixture.requestContext, routeKey } } as WsEvent;
}

/**
 * One typed error frame and nothing else, or a complete valid flow: never anything in between.
 * A well-formed cancel of a request that is not running is the one frame answered by nothing.
 */
function wellFormed(frames: ServerFrame[], body: string, routeKey: string): boolean {
  if (frames.length === 0) return routeKey === 'llm/cancel' || /"action"\s*:\s*"llm\/cancel"/.test(body);
  if (frames.length === 1 && (frames[0]!.type === 'error' || frames[0]!.type === 'pong')) return true;
  if (frames[0]?.type !== 'accepted') return false;
  const last = frames.at(-1)!;
  const chunks = frames.filter((f) => f.type === 'chunk');
  const contiguous = chunks.every((f, i) => f.type === 'chunk' && f.seq === i);
  return contiguous && (last.type === 'done' || (last.type === 'response' && last.part === last.parts - 1));
}

describe('the handler under arbitrary frames (fast-check)', () => {
  let gateway: Gateway;
  let sender: RecordingSender;

  beforeAll(async () => {
    ({ gateway, sender } = await createUnitGateway(
      { RATE_LIMIT_REQUESTS_PER_MINUTE: '0', RATE_LIMIT_TOKENS_PER_MINUTE: '0' },
      { model: new MockChatModel({ tokenDelayMs: 0, answerTokens: 5 }) },
    ));
  });
  afterAll(() => gateway.app.close());

  const action = fc.constantFrom('llm/stream', 'llm/chat', 'message', 'llm/cancel', 'ping', 'nope', '$default', '');
  const frameLike = fc.record(
    {
      action,
      requestId: fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), fc.integer()),
      data: fc.oneof(
        fc.jsonValue(),
        fc.record({
          messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system', 7), content: fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant(null)) }), { maxLength: 4 }),
          modelId: fc.option(fc.constantFrom('mock.echo-v1', 'x', ''), { nil: undefined }),
          inferenceConfig: fc.option(fc.record({ maxTokens: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: [] }), { nil: undefined }),
          metadata: fc.option(fc.jsonValue(), { nil: undefined }),
        }, { requiredKeys: [] }),
      ),
    },
    { requiredKeys: [] },
  );
  const valid = fc.constantFrom(
    '{"action":"ping"}',
    '{"action":"ping","requestId":"p-1"}',
    '{"action":"nope"}',
    '{"data":{}}',
    '{"action":"llm/stream","data":{"messages":[{"role":"user","content":"hi"}]}}',
    '{"action":"llm/chat","requestId":"c","data":{"messages":[{"role":"user","content":"hi"}]}}',
  );
  const body = fc.oneof(
    // Weighted so every run also reaches the complete flows, which the coverage check below asks for.
    { arbitrary: valid, weight: 4 },
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.json(),
    frameLike.map((f) => JSON.stringify(f)),
    fc.nat({ max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.nat({ max: 3000 }).map((depth) => `{"action":"llm/stream","data":{"messages":[{"role":"user","content":"x"}],"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`),
  );

  it('answers every frame with one typed error or a valid flow, to the sender only, and never throws', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.option(fc.constantFrom(...MESSAGE_ROUTES)), body, fc.boolean(), async (forcedRoute, text, binary) => {
        // Mostly API Gateway's own route selection; sometimes any route, as a misconfigured API might send.
        const routeKey = forcedRoute ?? selectRoute(text, new Set(ROUTE_KEYS));
        sender.sent.length = 0;
        const result = await gateway.handler(event(routeKey, binary ? Buffer.from(text).toString('base64') : text, binary));
        expect(result.statusCode).toBe(200);
        expect(sender.sent.every((s) => s.connectionId === ME)).toBe(true);
        const frames = sender.framesFor(ME);
        expect(wellFormed(frames, text, routeKey)).toBe(true);
        seen.add(frames[0]?.type === 'error' ? frames[0].code : String(frames.at(-1)?.type));
        for (const frame of frames) {
          if (frame.type === 'error') expect(frame.code).toMatch(/^(invalid_json|invalid_request|unknown_action|payload_too_large|model_not_allowed)$/);
        }
      }),
      { numRuns: 400, seed: seedFromEnv() },
    );
    // The generators reach both sides: rejected input and complete answers.
    expect([...seen]).toEqual(expect.arrayContaining(['invalid_json', 'invalid_request', 'unknown_action', 'done', 'response', 'pong']));
  });

  it('refuses a huge frame with payload_too_large', async () => {
    sender.sent.length = 0;
    await gateway.handler(event('$default', 'x'.repeat(128 * 1024 + 1)));
    expect(sender.framesFor(ME)).toEqual([expect.objectContaining({ type: 'error', code: 'payload_too_large' })]);
  });
});
