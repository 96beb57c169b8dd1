import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A wire-level stand-in for an OpenAI-compatible server: `POST /v1/chat/completions` with
 * `stream: true`, answered in the Chat Completions SSE format (`data: {chunk}\n\n` … a
 * `finish_reason` chunk, the usage chunk when `stream_options.include_usage` asks for it, then
 * `data: [DONE]\n\n`), with scripted HTTP errors, error events, stalls and broken connections.
 */
/**
 * One streamed item: text (`delta.content`), or a piece of a tool call (`delta.tool_calls[]`):
 * its first carries `id` and `name` as OpenAI sends them, later ones only `index` and arguments.
 */
export type Token = string | { readonly call: number; readonly id?: string; readonly name?: string; readonly arguments?: string };

export type OpenAiScenario =
  | { kind: 'stream'; tokens: readonly Token[]; delayMs?: number; finishReason?: string; usage?: { prompt_tokens: number; completion_tokens: number } | 'none' }
  /** An HTTP error before the stream, with OpenAI's error body. */
  | { kind: 'http-error'; status: number; message: string; code?: string; headers?: Record<string, string> }
  /** Streams `after` tokens, then an error event (`data: {"error": …}`), as servers report failures mid-stream. */
  | { kind: 'error-event'; tokens: readonly Token[]; after: number; message: string }
  /** Streams `after` tokens, then nothing until the client gives up. */
  | { kind: 'stall'; tokens: readonly Token[]; after: number }
  /** Streams `after` tokens, then destroys the socket (a network cut). */
  | { kind: 'break'; tokens: readonly Token[]; after: number }
  /** Streams `after` tokens, then ends the response cleanly: no finish_reason, no [DONE]. */
  | { kind: 'truncate'; tokens: readonly Token[]; after: number };

export interface RecordedCompletion {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown> & { model?: string; messages?: Array<Record<string, unknown> & { role: string; content: string | null }> };
  /** Set when the client closed the connection before the stand-in ended the response. */
  closedEarly: boolean;
  /** Tokens actually written before the response ended or was closed. */
  written: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class OpenAiStandIn {
  readonly requests: RecordedCompletion[] = [];
  /** Picks the scenario for each request; the default streams three tokens with usage. */
  scenario: (request: RecordedCompletion, index: number) => OpenAiScenario = () => ({ kind: 'stream', tokens: ['Hello', ', ', 'world'] });
  private readonly server = http.createServer((req, res) => {
    this.serve(req, res).catch(() => res.destroy());
  });
  private readonly sockets = new Set<Socket>();
  /** What `GET /v1/models` answers (OpenAI's list shape, or an error with this status). */
  modelList: { status: number; models: readonly string[] } = { status: 200, models: ['gpt-test'] };
  modelListRequests = 0;
  /** The base URL an SDK client is given, e.g. http://127.0.0.1:PORT/v1 */
  baseUrl = '';

  async start(): Promise<this> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'GET' && req.url === '/v1/models') {
      this.modelListRequests += 1;
      const { status, models } = this.modelList;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'standin' })) } : { error: { message: `models: HTTP ${status}`, type: 'error', code: null, param: null } }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error' } }));
      return;
    }
    const recorded: RecordedCompletion = {
      path: req.url,
      headers: req.headers,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as RecordedCompletion['body'],
      closedEarly: false,
      written: 0,
    };
    this.requests.push(recorded);
    let endedHere = false;
    res.on('close', () => {
      if (!endedHere) recorded.closedEarly = true;
    });
    const scenario = this.scenario(recorded, this.requests.length - 1);
    if (scenario.kind === 'http-error') {
      endedHere = true;
      res.writeHead(scenario.status, { 'content-type': 'application/json', ...scenario.headers });
      res.end(JSON.stringify({ error: { message: scenario.message, type: 'error', code: scenario.code ?? null, param: null } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const model = recorded.body.model ?? 'unknown';
    const send = (payload: unknown): void => void res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
      id: 'chatcmpl-standin', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    const tokens = scenario.tokens;
    const upTo = scenario.kind === 'stream' ? tokens.length : scenario.after;
    const delay = scenario.kind === 'stream' ? (scenario.delayMs ?? 2) : 2;
    send(chunk({ role: 'assistant', content: '' }));
    for (const token of tokens.slice(0, upTo)) {
      if (res.destroyed) return;
      if (typeof token === 'string') send(chunk({ content: token }));
      else {
        const { call, id, name, arguments: args } = token;
        const fn = { ...(name !== undefined ? { name } : {}), arguments: args ?? '' };
        send(chunk({ tool_calls: [{ index: call, ...(id !== undefined ? { id, type: 'function' } : {}), function: fn }] }));
      }
      recorded.written += 1;
      await sleep(delay);
    }
    if (res.destroyed) return;
    switch (scenario.kind) {
      case 'stream': {
        send(chunk({}, scenario.finishReason ?? 'stop'));
        const wantsUsage = (recorded.body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage === true;
        if (wantsUsage && scenario.usage !== 'none') {
          const usage = scenario.usage ?? { prompt_tokens: 11, completion_tokens: tokens.length };
          send({ id: 'chatcmpl-standin', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
        }
        res.write('data: [DONE]\n\n');
        endedHere = true;
        res.end();
        return;
      }
      case 'error-event':
        send({ error: { message: scenario.message, type: 'server_error', code: null, param: null } });
        endedHere = true;
        res.end();
        return;
      case 'stall':
        return; // the client's timeout closes it
      case 'break':
        endedHere = true;
        res.socket?.destroy();
        return;
      case 'truncate':
        endedHere = true;
        res.end();
        return;
    }
  }
}
