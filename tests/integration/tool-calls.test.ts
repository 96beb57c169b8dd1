import { Writable } from 'node:stream';
import pino from 'pino';
import type { LocalGateway } from '../../src/local/emulator';
import { modeSuite, STORE_MODES } from '../helpers/store-modes';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * Tool calls through the gateway with the mock model, in memory and on DynamoDB: tool_use
 * frames in the chunks' seq, `done.toolUses`, the loop back with results, chat mode, cancel
 * and resume in the middle of a call, maxTokens inside one — and the inputs never logged.
 */

const TIME = { name: 'get_time', description: 'The time in a zone', inputSchema: { type: 'object', properties: { zone: { type: 'string', examples: ['Europe/Paris'] } }, required: ['zone'] } };
const CALC = { name: 'calculator', inputSchema: { type: 'object', properties: { expression: { type: 'string', examples: ['6*7'] } }, required: ['expression'] } };
const TOOLS = [TIME, CALC];

const ask = (requestId: string, content: unknown, extra: Record<string, unknown> = {}, action = 'llm/stream') => ({
  action,
  requestId,
  data: { messages: [{ role: 'user', content }], tools: TOOLS, ...extra },
});
const isSeq = (f: Frame): boolean => f.type === 'chunk' || f.type === 'tool_use';

/** What a request's seq frames say: the text, each call's input in order, and the seqs in arrival order. */
function read(frames: Frame[]) {
  const seqFrames = frames.filter(isSeq);
  const calls = new Map<string, { name: string; input: string }>();
  for (const f of seqFrames.filter((s) => s.type === 'tool_use')) {
    const call = calls.get(f.toolUseId as string) ?? { name: f.name as string, input: '' };
    call.input += f.inputDelta as string;
    calls.set(f.toolUseId as string, call);
  }
  return {
    text: seqFrames.filter((f) => f.type === 'chunk').map((f) => f.content as string).join(''),
    calls: [...calls.entries()].map(([toolUseId, c]) => ({ toolUseId, name: c.name, input: c.input })),
    seqs: seqFrames.map((f) => Number(f.seq)),
  };
}

describe.each(STORE_MODES)('tool calls through the gateway, %s mode', (_name, makeMode) => {
  const { pool, start } = modeSuite(makeMode);
  let local: LocalGateway;

  async function run(client: TestClient, frame: { requestId: string }): Promise<{ frames: Frame[]; end: Frame }> {
    client.send(frame);
    const end = await client.terminal(frame.requestId, 10_000);
    return { frames: client.of(frame.requestId), end };
  }

  it('streams a call as tool_use frames in the chunks’ seq — text first — and ends with done.toolUses and stopReason tool_use; inputs never logged', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    local = await start({ MOCK_TOKEN_DELAY_MS: '2' }, { logger });
    const client = await pool.connect();
    const { frames, end } = await run(client, ask('t-1', 'what is the time? use get_time'));
    const { text, calls, seqs } = read(frames);
    expect(text).toBe('Calling get_time. ');
    expect(calls).toEqual([{ toolUseId: expect.stringMatching(/^tooluse_/) as string, name: 'get_time', input: '{"zone":"Europe/Paris"}' }]);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(frames.findIndex((f) => f.type === 'tool_use')).toBeGreaterThan(frames.findIndex((f) => f.type === 'chunk'));
    expect(end).toMatchObject({ type: 'done', seq: seqs.length, stopReason: 'tool_use', toolUses: [{ toolUseId: calls[0]!.toolUseId, name: 'get_time', input: { zone: 'Europe/Paris' } }] });
    await local.idle();
    const logged = lines.join('');
    expect(logged).toContain('"the model called tools"');
    expect(logged).toContain('"name":"get_time"');
    expect(logged).not.toContain('Europe/Paris');
  });

  it('makes two parallel calls as separate entries, in order, never merging their frames; toolChoice any and named choose the call', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '1', STREAM_FLUSH_INTERVAL_MS: '200' });
    const client = await pool.connect();
    const both = await run(client, ask('t-2', 'get_time and calculator, please'));
    // Coalescing (200 ms) merges what it can — each call's pieces into one frame — but not two calls.
    const toolFrames = both.frames.filter((x) => x.type === 'tool_use');
    expect(toolFrames.map((f) => f.name)).toEqual(['get_time', 'calculator']);
    expect(read(both.frames).calls.map((c) => [c.name, c.input])).toEqual([
      ['get_time', '{"zone":"Europe/Paris"}'],
      ['calculator', '{"expression":"6*7"}'],
    ]);
    expect((both.end.toolUses as Frame[]).map((u) => u.name)).toEqual(['get_time', 'calculator']);
    const any = await run(client, ask('t-3', 'anything', { toolChoice: 'any' }));
    expect((any.end.toolUses as Frame[]).map((u) => u.name)).toEqual(['get_time']);
    const named = await run(client, ask('t-4', 'anything', { toolChoice: { name: 'calculator' } }));
    expect((named.end.toolUses as Frame[]).map((u) => u.name)).toEqual(['calculator']);
    const none = await run(client, ask('t-5', 'no tool named here'));
    expect(none.end).toMatchObject({ stopReason: 'end_turn' });
    expect(none.end).not.toHaveProperty('toolUses');
  });

  it('runs the loop: the calls and their results sent back, the model answers in text', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '1' });
    const client = await pool.connect();
    const first = await run(client, ask('loop-1', 'get_time and calculator'));
    const uses = first.end.toolUses as Array<{ toolUseId: string; name: string; input: Record<string, unknown> }>;
    const history = [
      { role: 'user', content: 'get_time and calculator' },
      { role: 'assistant', content: [{ type: 'text', text: read(first.frames).text.trim() }, ...uses.map((u) => ({ type: 'tool_use', ...u }))] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: uses[0]!.toolUseId, content: '09:30' }, { type: 'tool_result', toolUseId: uses[1]!.toolUseId, content: [{ type: 'text', text: '42' }] }] },
    ];
    const second = await run(client, { action: 'llm/stream', requestId: 'loop-2', data: { messages: history, tools: TOOLS } } as { requestId: string });
    expect(read(second.frames).text).toBe('From the tools: get_time returned "09:30"; calculator returned "42".');
    expect(second.end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
    // And chat mode: no tool_use frames, the calls whole on the last response part.
    const chat = await run(client, ask('chat-1', 'calculator please', {}, 'llm/chat'));
    expect(chat.frames.some((f) => f.type === 'tool_use')).toBe(false);
    expect(chat.end).toMatchObject({ type: 'response', stopReason: 'tool_use', content: 'Calling calculator. ', toolUses: [{ name: 'calculator', input: { expression: '6*7' } }] });
  });

  it('ends at maxTokens inside a call: the partial input only in the frames, never in toolUses', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '1' });
    const client = await pool.connect();
    const cut = await run(client, ask('cut-1', 'get_time', { inferenceConfig: { maxTokens: 3 } }));
    expect(read(cut.frames).calls).toHaveLength(1);
    expect(cut.end).toMatchObject({ type: 'done', stopReason: 'max_tokens' });
    expect(cut.end).not.toHaveProperty('toolUses');
  });

  it('cancels in the middle of a call: cancelled, and no done', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '150' });
    const client = await pool.connect();
    client.send(ask('c-1', 'get_time'));
    await client.waitFor((all) => all.some((f) => f.requestId === 'c-1' && f.type === 'tool_use'), 10_000, 'the first tool_use frame');
    client.send({ action: 'llm/cancel', requestId: 'c-1' });
    const end = await client.terminal('c-1', 10_000);
    expect(end).toMatchObject({ type: 'error', code: 'cancelled' });
    await local.idle();
    expect(client.of('c-1').some((f) => f.type === 'done')).toBe(false);
  });

  it('resumes in the middle of a call’s input on a new connection: every seq frame exactly once, the call whole', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '60', STREAM_FLUSH_INTERVAL_MS: '0', RESUME_GRACE_SECONDS: '30' });
    const reference = await pool.connect();
    const whole = read((await run(reference, ask('ref', 'get_time and calculator'))).frames);

    const first = await pool.connect();
    first.send(ask('r-1', 'get_time and calculator'));
    const accepted = (await first.waitFor((all) => all.some((f) => f.requestId === 'r-1' && f.type === 'accepted'))).find((f) => f.requestId === 'r-1' && f.type === 'accepted')!;
    await first.waitFor((all) => all.some((f) => f.requestId === 'r-1' && f.type === 'tool_use' && f.inputDelta !== ''), 10_000, 'a piece of the first call');
    first.socket.terminate();
    const before = first.of('r-1').filter(isSeq);
    const fromSeq = before.length;
    const second = await pool.connect();
    second.send({ action: 'llm/resume', requestId: 'r-1', data: { resumeToken: accepted.resumeToken as string, fromSeq } });
    const end = await second.terminal('r-1', 15_000);
    const after = second.of('r-1').filter(isSeq);
    expect(after[0]?.seq).toBe(fromSeq);
    const joined = read([...before, ...after]);
    expect(joined.seqs).toEqual(joined.seqs.map((_, i) => i));
    expect(joined.text).toBe(whole.text);
    expect(joined.calls.map((c) => [c.name, c.input])).toEqual(whole.calls.map((c) => [c.name, c.input]));
    expect(end).toMatchObject({ type: 'done', seq: joined.seqs.length, stopReason: 'tool_use' });
    expect((end.toolUses as Frame[]).map((u) => u.input)).toEqual([{ zone: 'Europe/Paris' }, { expression: '6*7' }]);
  });

  it('refuses a malformed tool request with invalid_request naming the field, and the connection goes on', async () => {
    local = await start();
    const client = await pool.connect();
    const bad = await run(client, { action: 'llm/stream', requestId: 'bad-1', data: { messages: [{ role: 'user', content: [{ type: 'tool_use', toolUseId: 'x', name: 'get_time', input: {} }] }] } } as { requestId: string });
    expect(bad.end).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.messages[0].content[0] is a "tool_use" block, which only assistant turns may carry.' });
    const good = await run(client, ask('good-1', 'hello'));
    expect(good.end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
  });
});
