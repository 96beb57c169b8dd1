import WebSocket from 'ws';
import { GatewayClient, GatewayError } from '../../client/src/index.js';
import type { ChatModel } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { startLocal } from '../helpers/local';
import { ScriptedGateway } from '../helpers/scripted-gateway';
import { until } from '../helpers/ws-client';

/**
 * The client's own waits: no request hangs on a gateway that stays silent or answers a resume
 * with a refusal, and a request given up while disconnected is still stopped on the gateway.
 */

const NodeWebSocket = WebSocket;
const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const TOKEN = 'T'.repeat(32);

/** The error a promise rejects with (a test fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** A model that records every call's abort, to tell a stopped answer from one that ran out. */
function watchedModel(inner: ChatModel): ChatModel & { aborted: number; finished: number } {
  const model = {
    aborted: 0,
    finished: 0,
    async *stream(request: Parameters<ChatModel['stream']>[0], signal: AbortSignal) {
      try {
        yield* inner.stream(request, signal);
        model.finished += 1;
      } finally {
        if (signal.aborted) model.aborted += 1;
      }
    },
  };
  return model;
}

describe('the client against a gateway that stays silent', () => {
  let gateway: ScriptedGateway | undefined;
  let client: GatewayClient | undefined;
  afterEach(async () => {
    await client?.close();
    await gateway?.stop();
  });

  it('rejects a request never accepted with request_timeout (retryable), and sends llm/cancel for it', async () => {
    gateway = await ScriptedGateway.start();
    client = new GatewayClient({ url: gateway.url, WebSocket: NodeWebSocket, requestTimeoutMs: 200 });
    const stream = client.stream(ask('hello'), { requestId: 'silent-1' });
    const chat = client.chat(ask('hello'), { requestId: 'silent-2' });
    const [streamError, chatError] = await Promise.all([rejection(stream.done), rejection(chat)]);
    for (const [error, id] of [[streamError, 'silent-1'], [chatError, 'silent-2']] as const) {
      expect(error).toMatchObject({ code: 'request_timeout', retryable: true, requestId: id });
    }
    await until(() => gateway!.sent('llm/cancel').length === 2, 'the two cancels');
    expect(gateway.sent('llm/cancel').map((f) => f['requestId']).sort()).toEqual(['silent-1', 'silent-2']);
  });

  it('cancels with the token once a request given up before its accepted is accepted after all', async () => {
    let late: (() => void) | undefined;
    gateway = await ScriptedGateway.start((frame, socket) => {
      if (frame['action'] === 'llm/stream') late = () => socket.send(JSON.stringify({ type: 'accepted', requestId: frame['requestId'], modelId: 'm', resumeToken: TOKEN }));
    });
    client = new GatewayClient({ url: gateway.url, WebSocket: NodeWebSocket, requestTimeoutMs: 100 });
    const stream = client.stream(ask('hello'), { requestId: 'slow' });
    expect(await rejection(stream.done)).toMatchObject({ code: 'request_timeout' });
    late!();
    await until(() => gateway!.sent('llm/cancel').some((f) => (f['data'] as { resumeToken?: string } | undefined)?.resumeToken === TOKEN), 'the cancel with the token');
  });

  it('rejects a resume that gets no answer with request_timeout and cancels the request by its token', async () => {
    gateway = await ScriptedGateway.start((frame, socket) => {
      if (frame['action'] !== 'llm/stream') return;
      const requestId = frame['requestId'];
      socket.send(JSON.stringify({ type: 'accepted', requestId, modelId: 'm', resumeToken: TOKEN }));
      socket.send(JSON.stringify({ type: 'chunk', requestId, seq: 0, content: 'Hel' }));
      setImmediate(() => socket.terminate()); // the connection drops; the resume then meets silence
    });
    client = new GatewayClient({ url: gateway.url, WebSocket: NodeWebSocket, requestTimeoutMs: 300, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const stream = client.stream(ask('hello'), { requestId: 'r-1' });
    const texts: string[] = [];
    const error = await rejection((async () => { for await (const text of stream) texts.push(text); })());
    expect(texts).toEqual(['Hel']);
    expect(error).toMatchObject({ code: 'request_timeout', retryable: true, requestId: 'r-1' });
    expect(gateway.sent('llm/resume')).toEqual([{ action: 'llm/resume', requestId: 'r-1', data: { resumeToken: TOKEN, fromSeq: 1 } }]);
    await until(() => gateway!.sent('llm/cancel').length > 0, 'the cancel');
    expect(gateway.sent('llm/cancel')).toEqual([{ action: 'llm/cancel', requestId: 'r-1', data: { resumeToken: TOKEN } }]);
  });

  it('rejects a resume refused without ending the request (refusedRequestId) instead of waiting for it', async () => {
    gateway = await ScriptedGateway.start((frame, socket) => {
      const requestId = frame['requestId'];
      if (frame['action'] === 'llm/stream') {
        socket.send(JSON.stringify({ type: 'accepted', requestId, modelId: 'm', resumeToken: TOKEN }));
        socket.send(JSON.stringify({ type: 'chunk', requestId, seq: 1, content: 'gap' })); // seq 0 went missing
      }
      if (frame['action'] === 'llm/resume') {
        socket.send(JSON.stringify({ type: 'error', refusedRequestId: requestId, code: 'rate_limited', message: 'Rate limit reached: 1 requests per minute.', retryable: true, retryAfterMs: 5000 }));
      }
    });
    client = new GatewayClient({ url: gateway.url, WebSocket: NodeWebSocket, requestTimeoutMs: 60_000 });
    const stream = client.stream(ask('hello'), { requestId: 'gap-1' });
    expect(await rejection(stream.done)).toMatchObject({ code: 'rate_limited', retryAfterMs: 5000, requestId: 'gap-1' });
    await until(() => gateway!.sent('llm/cancel').length > 0, 'the cancel');
  });

  it('refuses a requestId already in use by one of its own requests, leaving that one alone', async () => {
    gateway = await ScriptedGateway.start();
    client = new GatewayClient({ url: gateway.url, WebSocket: NodeWebSocket, requestTimeoutMs: 60_000 });
    const first = client.stream(ask('one'), { requestId: 'same' });
    const second = client.stream(ask('two'), { requestId: 'same' });
    expect(await rejection(second.done)).toMatchObject({ code: 'invalid_request', requestId: 'same' });
    await until(() => gateway!.sent('llm/stream').length === 1, 'the first request sent');
    gateway.sockets[0]!.send(JSON.stringify({ type: 'accepted', requestId: 'same', modelId: 'm', resumeToken: TOKEN }));
    gateway.sockets[0]!.send(JSON.stringify({ type: 'done', requestId: 'same', seq: 0, modelId: 'm', stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 0, totalTokens: 1 }, metrics: { timeToFirstTokenMs: null, totalMs: 1 } }));
    await expect(first.done).resolves.toMatchObject({ requestId: 'same', stopReason: 'end_turn' });
  });
});

describe('the client against the emulator: resumes at a limit, aborts while disconnected', () => {
  let local: LocalGateway | undefined;
  let client: GatewayClient | undefined;
  afterEach(async () => {
    await client?.close();
    await local?.stop();
  });

  it('rejects an answer whose automatic resume hits the requests-per-minute limit with rate_limited, instead of hanging', async () => {
    local = await startLocal({ RATE_LIMIT_REQUESTS_PER_MINUTE: '1', MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '400' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    await client.connect();
    const stream = client.stream(ask('long'), { requestId: 'limited' });
    const seen: string[] = [];
    const error = rejection(
      (async () => {
        for await (const text of stream) {
          seen.push(text);
          if (seen.length === 2) for (const id of local.connectionIds()) await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
        }
      })(),
    );
    expect(await error).toMatchObject({ code: 'rate_limited', retryable: true, requestId: 'limited' });
  });

  it('stops the answer of a request aborted while disconnected, by llm/cancel with its token from the next connection', async () => {
    const model = watchedModel(new MockChatModel({ tokenDelayMs: 5, answerTokens: 100_000 }));
    local = await startLocal({ RESUME_GRACE_SECONDS: '600' }, { deps: { model } });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket, reconnect: { initialDelayMs: 200, maxDelayMs: 200 } });
    await client.connect();
    const controller = new AbortController();
    const stream = client.stream(ask('endless'), { requestId: 'gone', signal: controller.signal });
    const reconnecting = new Promise<void>((resolve) => client!.on('status', (s) => s === 'reconnecting' && resolve()));
    const error = rejection(
      (async () => {
        for await (const text of stream) {
          void text;
          if (local.connectionIds().length === 1) for (const id of local.connectionIds()) await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
        }
      })(),
    );
    await reconnecting;
    controller.abort();
    expect(await error).toMatchObject({ code: 'cancelled' });
    // Stopped long before the answer's end or the grace time: the model call aborted, the slots free.
    await until(() => model.aborted === 1, 'the model call aborted', 5000);
    const counters = local.gateway.deps.counters as MemoryCounterStore;
    await until(() => counters.total('conc:') === 0, 'the slots released', 5000);
    expect(model.finished).toBe(0);
  });
});
