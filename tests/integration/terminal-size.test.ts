import type { ChatModel, ChatModelEvent } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { LIMITS } from '../../src/models/limits';
import { STORE_MODES } from '../helpers/store-modes';
import { TestClient, until, type Frame } from '../helpers/ws-client';

/**
 * Every frame the gateway posts fits API Gateway's limits and every item it stores fits
 * DynamoDB's, whatever the model writes: here a model that writes a whole file as one tool
 * call's input, larger than a message (140 KB) and larger than a DynamoDB item (420 KB). The
 * request still ends with exactly one terminal frame, a resume after the end gets the whole
 * answer again, and the id is free for the next request.
 */

/** A file's worth of text: varied enough that nothing compresses it to nothing. */
function fileOf(bytes: number): string {
  const line = (i: number): string => `line ${i}: the quick brown fox jumps over the lazy dog ${(i * 7919) % 10007}\n`;
  let text = '';
  for (let i = 0; text.length < bytes; i += 1) text += line(i);
  return text.slice(0, bytes);
}

/** A model that answers with a sentence, then one `write_file` call whose input holds `content`. */
function fileWriter(content: string): ChatModel {
  return {
    async *stream(): AsyncIterable<ChatModelEvent> {
      yield { type: 'delta', text: 'Writing the file now.' };
      const input = JSON.stringify({ path: 'notes.txt', content });
      yield { type: 'tool_delta', toolUseId: 'call-1', name: 'write_file', inputDelta: '' };
      for (let i = 0; i < input.length; i += 4096) {
        yield { type: 'tool_delta', toolUseId: 'call-1', name: 'write_file', inputDelta: input.slice(i, i + 4096) };
        await new Promise((resolve) => setImmediate(resolve));
      }
      yield { type: 'tool_delta', toolUseId: 'call-2', name: 'read_file', inputDelta: '{"path":"other.txt"}' };
      yield { type: 'end', stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 100, totalTokens: 110 }, modelId: 'mock.echo-v1' };
    },
  };
}

const TOOLS = [
  { name: 'write_file', inputSchema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } } },
  { name: 'read_file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
];
const ask = (requestId: string, action: string) => ({ action, requestId, data: { messages: [{ role: 'user', content: 'write notes.txt' }], tools: TOOLS } });
const bytes = (text: string): number => Buffer.byteLength(text);

/** The input of each call, joined from the frames that carried it (`tool_use` frames or `response` parts), parsed. */
function inputsFrom(frames: readonly Frame[]): Map<string, unknown> {
  const texts = new Map<string, string>();
  for (const f of frames) {
    if ((f.type === 'tool_use' || f.type === 'response') && typeof f.toolUseId === 'string') texts.set(f.toolUseId, (texts.get(f.toolUseId) ?? '') + String(f.inputDelta));
  }
  return new Map([...texts].map(([id, text]) => [id, JSON.parse(text) as unknown]));
}

describe.each(STORE_MODES)('frames and items within their limits, %s mode', (_name, makeMode) => {
  const mode = makeMode();
  let local: LocalGateway | undefined;
  const clients: TestClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());

  describe.each([
    ['llm/stream', 140],
    ['llm/stream', 420],
    ['llm/chat', 140],
    ['llm/chat', 420],
  ])('%s with a %d KB tool input', (action, kb) => {
    it('ends with one deliverable terminal frame, replays whole after the end and frees the id', async () => {
      const content = fileOf(kb * 1024);
      local = await mode.start({}, fileWriter(content));
      const ws = await TestClient.connect(local.url);
      clients.push(ws);
      ws.send(ask('big', action));
      const end = await ws.terminal('big', 20_000);

      // One terminal frame, the answer's, within the message limit; every frame within its own.
      const terminals = ws.of('big').filter((f) => f.type === 'done' || f.type === 'error' || (f.type === 'response' && f.part === f.parts - 1));
      expect(terminals).toHaveLength(1);
      expect(end.type).toBe(action === 'llm/stream' ? 'done' : 'response');
      for (const text of ws.raw) expect(bytes(text)).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
      for (const text of ws.raw.filter((t) => t.includes('"type":"chunk"') || t.includes('"type":"tool_use"'))) expect(bytes(text)).toBeLessThanOrEqual(LIMITS.maxFrameBytes);

      // The big call is listed without its input, the small one with it; the frames before carried the big one whole.
      expect(end.toolUses).toEqual([
        { toolUseId: 'call-1', name: 'write_file', inputOmitted: true },
        { toolUseId: 'call-2', name: 'read_file', input: { path: 'other.txt' } },
      ]);
      expect(inputsFrom(ws.of('big')).get('call-1')).toEqual({ path: 'notes.txt', content });
      if (action === 'llm/chat') expect(ws.of('big').map((f) => f.content).join('')).toBe('Writing the file now.');

      // A resume after the end replays it all, then the same terminal frame.
      const accepted = ws.of('big').find((f) => f.type === 'accepted')!;
      const again = await TestClient.connect(local.url);
      clients.push(again);
      again.send({ action: 'llm/resume', requestId: 'big', data: { resumeToken: accepted.resumeToken, fromSeq: 0 } });
      expect(await again.terminal('big', 20_000)).toEqual(end);
      expect(inputsFrom(again.of('big')).get('call-1')).toEqual({ path: 'notes.txt', content });

      // The id is free again on the first connection: the next request under it is accepted.
      ws.send(ask('big', action));
      await ws.waitFor((frames) => frames.filter((f) => f.requestId === 'big' && f.type === 'accepted').length === 2, 20_000, 'the id accepted again');
      await ws.waitFor((frames) => frames.filter((f) => f.requestId === 'big' && (f.type === 'done' || (f.type === 'response' && f.part === f.parts - 1))).length === 2, 20_000, 'the second answer');
      await until(async () => {
        const left = await mode.leftovers(local!);
        return left.requests === 0 && left.slots === 0;
      }, 'no request record and no slot left', 5000);
    }, 60_000);
  });
});
