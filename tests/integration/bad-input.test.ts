import type { LocalGateway } from '../../src/local/emulator';
import { quiesce, startLocal } from '../helpers/local';
import { TestClient } from '../helpers/ws-client';

const user = (content: string) => ({ role: 'user', content });
const stream = (data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ action: 'llm/stream', requestId: 'bad-1', data, ...extra });

const CASES: Array<[string, string, string, RegExp]> = [
  ['invalid JSON', '{"action": "llm/stream", ', 'invalid_json', /not valid JSON/],
  ['a JSON array', '[{"action":"ping"}]', 'invalid_json', /JSON object/],
  ['no action', '{"data":{}}', 'unknown_action', /no "action" field/],
  ['an unknown action', '{"action":"llm/teleport"}', 'unknown_action', /Unknown action "llm\/teleport"\. Valid actions: llm\/stream, llm\/chat, message, llm\/cancel, llm\/resume, llm\/upload, ping/],
  ['missing messages', stream({}), 'invalid_request', /data\.messages/],
  ['empty messages', stream({ messages: [] }), 'invalid_request', /data\.messages/],
  ['a bad role', stream({ messages: [{ role: 'robot', content: 'x' }] }), 'invalid_request', /data\.messages\[0\]\.role/],
  ['a wrong type', stream({ messages: [user('x')], inferenceConfig: { maxTokens: 'many' } }), 'invalid_request', /data\.inferenceConfig\.maxTokens/],
  ['non-alternating turns', stream({ messages: [user('a'), user('b')] }), 'invalid_request', /data\.messages\[1\]\.role/],
  ['an oversized field', stream({ messages: [user('x'.repeat(100_001))] }), 'invalid_request', /data\.messages\[0\]\.content/],
  ['too many messages', stream({ messages: Array.from({ length: 101 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x' })) }), 'invalid_request', /data\.messages/],
  ['oversized metadata', stream({ messages: [user('x')], metadata: { k: 'v'.repeat(4000) } }), 'invalid_request', /data\.metadata/],
  ['a model not on the allow-list', stream({ messages: [user('x')], modelId: 'anthropic.claude-opus' }), 'model_not_allowed', /Allowed models: mock\.echo-v1/],
  ['maxTokens above the configured cap', stream({ messages: [user('x')], inferenceConfig: { maxTokens: 999_999 } }), 'invalid_request', /maxTokens must be at most 4096/],
  ['a cancel without requestId', '{"action":"llm/cancel"}', 'invalid_request', /requestId/],
];

describe('bad input over a real WebSocket', () => {
  let local: LocalGateway;
  let sender: TestClient;

  beforeAll(async () => {
    local = await startLocal();
    sender = await TestClient.connect(local.url);
  });
  afterAll(async () => {
    await sender.close();
    await local.stop();
  });

  it.each(CASES)('%s gets exactly one typed error frame and nothing else', async (_name, body, code, message) => {
    const before = sender.frames.length;
    sender.send(body);
    await quiesce(local, sender);
    const answers = sender.frames.slice(before).filter((f) => !String(f.requestId).startsWith('quiesce-'));
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: 'error', code, retryable: false });
    expect(answers[0]!.message).toMatch(message);
  });

  it('echoes a well-formed requestId on the error that ends that (refused) request', async () => {
    const client = await TestClient.connect(local.url);
    try {
      client.send({ action: 'llm/stream', requestId: 'bad-echo', data: { messages: [] } });
      expect(await client.terminal('bad-echo')).toMatchObject({ type: 'error', code: 'invalid_request', requestId: 'bad-echo', message: expect.stringContaining('data.messages') });
    } finally {
      await client.close();
    }
  });

  it('sends nothing to another connection while one sends every bad frame, and that one is still served', async () => {
    // Its own pair of connections: it holds whatever the other tests sent or in which order.
    const [offender, bystander] = await Promise.all([TestClient.connect(local.url), TestClient.connect(local.url)]);
    try {
      for (const [, body] of CASES) offender.send(body);
      await quiesce(local, offender);
      expect(offender.frames.filter((f) => f.type === 'error')).toHaveLength(CASES.length);
      expect(bystander.frames).toEqual([]);
      bystander.send({ action: 'ping', requestId: 'alive' });
      await bystander.waitFor((frames) => frames.some((f) => f.type === 'pong'));
      expect(bystander.frames.map((f) => f.type)).toEqual(['pong']);
    } finally {
      await Promise.all([offender.close(), bystander.close()]);
    }
  });
});
