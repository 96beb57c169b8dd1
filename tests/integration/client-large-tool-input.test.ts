import WebSocket from 'ws';
import { GatewayClient, GatewayError } from '../../client/src/index.js';
import type { ChatModel, ChatModelEvent } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { startLocal } from '../helpers/local';

/**
 * A tool call whose input is too large to repeat in the terminal frame: the gateway lists it
 * there with `inputOmitted` and its input came in the frames before (`tool_use` frames for
 * `llm/stream`, `response` parts for `llm/chat`). The client puts it back together, so
 * `done.toolUses` and `chat().toolUses` always carry every call's input, parsed.
 */

/** A file's worth of text, larger than one API Gateway message. */
const FILE = Array.from({ length: 2500 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join('');

/** Writes a sentence, then a `write_file` call holding FILE (in 4 KB pieces), then a small `read_file` call. */
const fileWriter: ChatModel = {
  async *stream(): AsyncIterable<ChatModelEvent> {
    yield { type: 'delta', text: 'Writing the file now.' };
    const input = JSON.stringify({ path: 'notes.txt', content: FILE });
    for (let i = 0; i < input.length; i += 4096) {
      yield { type: 'tool_delta', toolUseId: 'call-1', name: 'write_file', inputDelta: input.slice(i, i + 4096) };
      await new Promise((resolve) => setImmediate(resolve));
    }
    yield { type: 'tool_delta', toolUseId: 'call-2', name: 'read_file', inputDelta: '{"path":"other.txt"}' };
    yield { type: 'end', stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 100, totalTokens: 110 }, modelId: 'mock.echo-v1' };
  },
};

const TOOLS = [
  { name: 'write_file', inputSchema: { type: 'object' as const, properties: { path: { type: 'string' }, content: { type: 'string' } } } },
  { name: 'read_file', inputSchema: { type: 'object' as const, properties: { path: { type: 'string' } } } },
];
const data = { messages: [{ role: 'user' as const, content: 'write notes.txt' }], tools: TOOLS };
const CALLS = [
  { toolUseId: 'call-1', name: 'write_file', input: { path: 'notes.txt', content: FILE } },
  { toolUseId: 'call-2', name: 'read_file', input: { path: 'other.txt' } },
];

describe('the client with a tool input larger than a frame (inputOmitted), against the local emulator', () => {
  let local: LocalGateway;
  let client: GatewayClient;
  beforeEach(async () => {
    local = await startLocal({}, { deps: { model: fileWriter } });
    client = new GatewayClient({ url: local.url, WebSocket });
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  it('stream: done.toolUses has the omitted call’s input, joined from its tool_use frames', async () => {
    const stream = client.stream(data);
    let pieces = '';
    for await (const event of stream.events()) if (event.type === 'tool_use' && event.toolUseId === 'call-1') pieces += event.inputDelta;
    expect((await stream.done).toolUses).toEqual(CALLS);
    expect(JSON.parse(pieces)).toEqual(CALLS[0]!.input);
  });

  it('chat: toolUses has the omitted call’s input, joined from its response parts, and the text has none of it', async () => {
    const answer = await client.chat(data);
    expect(answer.content).toBe('Writing the file now.');
    expect(answer.toolUses).toEqual(CALLS);
  });

  it('a resume from the start rebuilds it too; one from a later seq cannot, and says so instead of giving a call without input', async () => {
    const first = client.stream(data);
    await first.done;
    const whole = client.resume({ requestId: first.requestId, resumeToken: first.resumeToken!, fromSeq: 0 });
    expect((await whole.done).toolUses).toEqual(CALLS);
    const late = client.resume({ requestId: first.requestId, resumeToken: first.resumeToken!, fromSeq: 3 });
    const error = await late.done.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'protocol_error', retryable: false });
    expect((error as GatewayError).message).toMatch(/write_file.*fromSeq 0/);
  });
});
