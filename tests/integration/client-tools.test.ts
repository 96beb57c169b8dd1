import WebSocket from 'ws';
import { GatewayClient, type RunToolsEvent, type StreamEvent, type Tool } from '../../client/src/index.js';
import type { LocalGateway } from '../../src/local/emulator';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';
import { pdf, png } from '../helpers/attachments';

const TIME: Tool = { name: 'get_time', description: 'The time in a zone', inputSchema: { type: 'object', properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } };
const CALC: Tool = { name: 'calculator', inputSchema: { type: 'object', properties: { expression: { type: 'string', examples: ['6*7'] } }, required: ['expression'] } };
const user = (content: string) => ({ role: 'user' as const, content });

/** What a list of stream events says: the text, and each call's input joined. */
function read(events: StreamEvent[]): { text: string; calls: Array<[string, string]> } {
  const calls = new Map<string, [string, string]>();
  for (const e of events) if (e.type === 'tool_use') calls.set(e.toolUseId, [e.name, (calls.get(e.toolUseId)?.[1] ?? '') + e.inputDelta]);
  return { text: events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join(''), calls: [...calls.values()] };
}

describe('the client with tools, against the local emulator', () => {
  let local: LocalGateway;
  let client: GatewayClient;
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '2' });
    client = new GatewayClient({ url: local.url, WebSocket });
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  it('streams tool calls as events beside the text, and done.toolUses parsed; the text iterator alone still reads the text', async () => {
    const stream = client.stream({ messages: [user('get_time and calculator')], tools: [TIME, CALC] });
    const events: StreamEvent[] = [];
    for await (const event of stream.events()) events.push(event);
    const done = await stream.done;
    expect(read(events)).toEqual({ text: 'Calling get_time and calculator. ', calls: [['get_time', '{"zone":"UTC"}'], ['calculator', '{"expression":"6*7"}']] });
    expect(done.stopReason).toBe('tool_use');
    expect(done.toolUses.map((u) => [u.name, u.input])).toEqual([['get_time', { zone: 'UTC' }], ['calculator', { expression: '6*7' }]]);
    // A text-only reader (the README's loop) against a request with tools: just the text.
    let text = '';
    for await (const delta of client.stream({ messages: [user('get_time')], tools: [TIME] })) text += delta;
    expect(text).toBe('Calling get_time. ');
    const chat = await client.chat({ messages: [user('calculator')], tools: [CALC] });
    expect(chat.toolUses.map((u) => u.input)).toEqual([{ expression: '6*7' }]);
    // Without tools, toolUses is empty, never missing.
    expect((await client.chat({ messages: [user('hi')] })).toolUses).toEqual([]);
  });

  it('runTools: streams, runs the called functions, sends their results and ends with the model’s text', async () => {
    const seen: RunToolsEvent[] = [];
    const inputs: unknown[] = [];
    const result = await client.runTools(
      { messages: [user('what is get_time, and calculator?')], tools: [TIME, CALC] },
      {
        tools: {
          get_time: (input) => (inputs.push(input), '09:30'),
          calculator: (input) => Promise.resolve((inputs.push(input), { value: 42 })),
        },
        onEvent: (event) => seen.push(event),
      },
    );
    expect(inputs).toEqual([{ zone: 'UTC' }, { expression: '6*7' }]);
    expect(result.steps).toBe(2);
    expect(result.text).toBe('From the tools: get_time returned "09:30"; calculator returned "{"value":42}".');
    expect(result.result.stopReason).toBe('end_turn');
    expect(result.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(result.messages[2]!.content).toEqual([
      { type: 'tool_result', toolUseId: expect.stringMatching(/^tooluse_/) as string, content: '09:30' },
      { type: 'tool_result', toolUseId: expect.stringMatching(/^tooluse_/) as string, content: '{"value":42}' },
    ]);
    expect(seen.filter((e) => e.type === 'tool_result').map((e) => [e.step, e.type === 'tool_result' && e.name])).toEqual([[1, 'get_time'], [1, 'calculator']]);
    expect(seen.at(-1)).toMatchObject({ step: 2, type: 'text' });
  });

  it('runTools: a function that throws (or a tool without one) becomes a tool_result with isError; maxSteps stops the loop with the results in messages', async () => {
    const failed = await client.runTools(
      { messages: [user('get_time and calculator')], tools: [TIME, CALC] },
      { tools: { get_time: () => { throw new Error('clock broken'); } } },
    );
    expect(failed.text).toBe('From the tools: get_time failed "clock broken"; calculator failed "no function for the tool "calculator"".');
    const capped = await client.runTools({ messages: [user('get_time')], tools: [TIME] }, { tools: { get_time: () => 'noon' }, maxSteps: 1 });
    expect(capped.steps).toBe(1);
    expect(capped.result.stopReason).toBe('tool_use');
    expect(capped.messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'tool_result', content: 'noon' }] });
    // … which can be sent on as it is.
    const next = await client.runTools({ messages: capped.messages, tools: [TIME] }, { tools: {} });
    expect(next.text).toBe('From the tools: get_time returned "noon".');
  });

  it('resumes in the middle of a call after the connection is deleted: every event exactly once', async () => {
    await local.stop();
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '40', STREAM_FLUSH_INTERVAL_MS: '0', RESUME_GRACE_SECONDS: '30' });
    await client.close();
    client = new GatewayClient({ url: local.url, WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const reference: StreamEvent[] = [];
    const ref = client.stream({ messages: [user('get_time and calculator')], tools: [TIME, CALC] });
    for await (const e of ref.events()) reference.push(e);
    const stream = client.stream({ messages: [user('get_time and calculator')], tools: [TIME, CALC] });
    const events: StreamEvent[] = [];
    let deleted = false;
    let reconnects = 0;
    client.on('status', (status) => void (status === 'reconnecting' && (reconnects += 1)));
    for await (const e of stream.events()) {
      events.push(e);
      if (!deleted && e.type === 'tool_use' && e.inputDelta !== '') {
        deleted = true;
        const [connectionId] = local.connectionIds();
        await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
        await until(() => reconnects > 0, 'the client to notice');
      }
    }
    expect(deleted).toBe(true);
    expect(read(events)).toEqual(read(reference));
    expect((await stream.done).toolUses.map((u) => u.name)).toEqual(['get_time', 'calculator']);
  });
});

describe('the client uploading attachments, against the local emulator', () => {
  let local: LocalGateway;
  let client: GatewayClient;
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '1' });
    client = new GatewayClient({ url: local.url, WebSocket });
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  it('upload(): asks for the URL, PUTs the bytes, and its block goes straight into a message', async () => {
    const image = png();
    const progress: number[] = [];
    const attachment = await client.upload(new Uint8Array(image), { mediaType: 'image/png', onProgress: (f) => progress.push(f) });
    expect(attachment).toMatchObject({ mediaType: 'image/png', size: image.length, block: { type: 'image', attachmentId: attachment.attachmentId } });
    expect(progress.at(-1)).toBe(1);
    const doc = await client.upload(new Blob([new Uint8Array(pdf())], { type: 'application/pdf' }), { name: 'spec.pdf' });
    expect(doc.block).toEqual({ type: 'document', attachmentId: doc.attachmentId, name: 'spec.pdf' });
    const answer = await client.chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, attachment.block, doc.block] }] });
    expect(answer.content).toBe(`I received an image (image/png, ${image.length} bytes), a document "spec.pdf" (application/pdf, ${pdf().length} bytes). `);
    await expect(client.upload(new Uint8Array(10), { mediaType: 'application/zip' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('"application/zip" cannot be attached') as string });
  });
});
