import http2 from 'node:http2';
import { EventStreamCodec } from '@smithy/eventstream-codec';

/**
 * A wire-level stand-in for the Bedrock runtime's ConverseStream: HTTP/2 (as the SDK speaks
 * it) and `application/vnd.amazon.eventstream` frames encoded with @smithy/eventstream-codec.
 * Tests choose a scenario per request and assert on what the SDK sent.
 */

/**
 * One streamed item: text (a `contentBlockDelta.delta.text` of the current text block), the
 * start of a tool call (a new content block: `contentBlockStart.start.toolUse`), or a piece of
 * the current call's input (`contentBlockDelta.delta.toolUse.input`). A block ends with
 * `contentBlockStop` when the next begins, as Bedrock streams them.
 */
export type Token = string | { readonly toolUse: { readonly toolUseId: string; readonly name: string } } | { readonly input: string };

export type Scenario =
  | { kind: 'stream'; tokens: Token[]; delayMs?: number; stopReason?: string; usage?: { inputTokens: number; outputTokens: number } }
  /** Streams `after` tokens, then an exception event such as `throttlingException`. */
  | { kind: 'exception'; tokens: Token[]; after: number; exception: string; message?: string }
  /** An HTTP error before any event, e.g. 429 ThrottlingException. */
  | { kind: 'http-error'; status: number; errorType: string; message?: string; retryAfter?: string }
  /** Streams `after` tokens, then nothing until the client gives up. */
  | { kind: 'stall'; tokens: Token[]; after: number };

export interface RecordedRequest {
  readonly path: string;
  readonly modelId: string;
  readonly body: {
    messages?: Array<{ role: string; content: Array<Record<string, unknown> & { text?: string }> }>;
    toolConfig?: { tools: Array<{ toolSpec: { name: string; description?: string; inputSchema: { json: unknown } } }>; toolChoice?: Record<string, unknown> };
    system?: Array<{ text: string }>;
    inferenceConfig?: Record<string, unknown>;
  };
  readonly headers: http2.IncomingHttpHeaders;
  /** Set when the client closed the stream before the emulator ended it. */
  aborted: boolean;
  /** Tokens actually written before the stream ended or was aborted. */
  written: number;
}

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

function frame(messageType: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  const typeHeader = messageType === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [typeHeader]: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload))),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class BedrockEmulator {
  readonly requests: RecordedRequest[] = [];
  /** Picks the scenario for each request; the default streams three tokens. */
  scenario: (request: RecordedRequest, index: number) => Scenario = () => ({ kind: 'stream', tokens: ['Hello', ', ', 'world'] });
  private readonly server = http2.createServer();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  endpoint = '';

  async start(): Promise<this> {
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => {
      this.serve(stream, headers).catch(() => stream.destroy());
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    this.endpoint = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const path = String(headers[':path'] ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const match = /^\/model\/([^/]+)\/converse-stream$/.exec(path);
    if (headers[':method'] !== 'POST' || !match) {
      stream.respond({ ':status': 404, 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' });
      stream.end('{}');
      return;
    }
    const recorded: RecordedRequest = {
      path,
      modelId: decodeURIComponent(match[1]!),
      body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as RecordedRequest['body'],
      headers,
      aborted: false,
      written: 0,
    };
    this.requests.push(recorded);
    let endedHere = false;
    const finish = (): void => {
      endedHere = true;
      stream.end();
    };
    // The client (the SDK on abort) reset the stream before the emulator ended it.
    stream.on('close', () => {
      if (!endedHere) recorded.aborted = true;
    });
    const scenario = this.scenario(recorded, this.requests.length - 1);

    if (scenario.kind === 'http-error') {
      stream.respond({
        ':status': scenario.status,
        'content-type': 'application/json',
        'x-amzn-errortype': `${scenario.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        ...(scenario.retryAfter ? { 'retry-after': scenario.retryAfter } : {}),
      });
      stream.end(JSON.stringify({ message: scenario.message ?? scenario.errorType }));
      return;
    }

    stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'emulated' });
    const write = (bytes: Uint8Array): boolean => !stream.destroyed && !stream.closed && stream.write(bytes);
    write(frame('event', 'messageStart', { role: 'assistant', p: 'abc' }));
    const limit = scenario.kind === 'stream' ? scenario.tokens.length : scenario.after;
    // The content block being streamed: its index and whether it is text or a tool call.
    let block = { index: 0, kind: 'text' as 'text' | 'tool', open: false };
    const next = (kind: 'text' | 'tool'): void => {
      if (block.open) write(frame('event', 'contentBlockStop', { contentBlockIndex: block.index }));
      block = { index: block.open ? block.index + 1 : block.index, kind, open: true };
    };
    for (let i = 0; i < limit; i += 1) {
      if (scenario.kind === 'stream' && scenario.delayMs) await sleep(scenario.delayMs);
      const token = scenario.tokens[i]!;
      let event: Uint8Array;
      if (typeof token === 'string') {
        if (!block.open || block.kind !== 'text') next('text');
        event = frame('event', 'contentBlockDelta', { contentBlockIndex: block.index, delta: { text: token } });
      } else if ('toolUse' in token) {
        next('tool');
        event = frame('event', 'contentBlockStart', { contentBlockIndex: block.index, start: { toolUse: token.toolUse } });
      } else {
        event = frame('event', 'contentBlockDelta', { contentBlockIndex: block.index, delta: { toolUse: { input: token.input } } });
      }
      if (!write(event)) {
        if (stream.destroyed || stream.closed) return;
      }
      recorded.written += 1;
    }
    if (scenario.kind === 'exception') {
      write(frame('exception', scenario.exception, { message: scenario.message ?? `${scenario.exception} emulated` }));
      finish();
      return;
    }
    if (scenario.kind === 'stall') return; // keep the stream open until the client aborts it
    write(frame('event', 'contentBlockStop', { contentBlockIndex: block.index }));
    write(frame('event', 'messageStop', { stopReason: scenario.stopReason ?? 'end_turn' }));
    const usage = scenario.usage ?? { inputTokens: 11, outputTokens: scenario.tokens.length };
    write(
      frame('event', 'metadata', {
        usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens },
        metrics: { latencyMs: 123 },
      }),
    );
    finish();
  }
}
