import WebSocket from 'ws';
import { mockAnswerTokens } from '../src/llm/mock';
import { percentile, runLoad, type LoadResult } from './load-client';
import { startChild, type ChildServer } from './processes';
import { NO_LIMITS } from './env';

export interface BurstResult {
  readonly held: number;
  readonly rssPerConnectionKiB: number;
  readonly roundTripP50Ms: number;
  readonly roundTripP99Ms: number;
}

export interface LoadResults {
  readonly connections: number;
  readonly answerTokens: number;
  readonly tokenDelayMs: number;
  readonly streams: LoadResult;
  readonly gatewayIdleRssMiB: number;
  readonly gatewayPing: BurstResult;
  /** The same burst again on the same (now warm: JIT-compiled, connection pools open) process. */
  readonly gatewayPingWarm: BurstResult;
  readonly echo: BurstResult;
}

const GATEWAY = /WebSocket\s+(ws:\/\/\S+)/;

/**
 * Opens `count` sockets to a server (a child process), samples its resident memory before and
 * after, then sends one message on every socket at once and times each reply.
 */
export async function burst(server: ChildServer, count: number, message: (i: number) => string): Promise<BurstResult> {
  const before = await server.rssBytes();
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += 50) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(50, count - start) }, () => new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(server.url);
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      })),
    );
    sockets.push(...opened);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await server.rssBytes();
  const times = await Promise.all(
    sockets.map(
      (socket, i) =>
        new Promise<number>((resolve) => {
          const sent = performance.now();
          socket.once('message', () => resolve(performance.now() - sent));
          socket.send(message(i));
        }),
    ),
  );
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.close();
  })));
  return {
    held: sockets.length,
    rssPerConnectionKiB: (after - before) / 1024 / count,
    roundTripP50Ms: percentile(times, 50),
    roundTripP99Ms: percentile(times, 99),
  };
}

/**
 * `connections` WebSockets against the local gateway (a child process: `local-server.ts`, in-memory
 * store, mock model, the in-process SQS queue and worker), each streaming one answer at once;
 * then the same number against a raw `ws` echo server. Limits are off: one IP plays every user.
 */
export async function measureLoad(connections = 1000): Promise<LoadResults> {
  const answerTokens = 50;
  const tokenDelayMs = 20;
  const gateway = await startChild(
    'local-server.ts',
    {
      PORT: '0',
      LOG_LEVEL: 'warn',
      MOCK_TOKEN_DELAY_MS: String(tokenDelayMs),
      MOCK_ANSWER_TOKENS: String(answerTokens),
      ...NO_LIMITS,
      WORKER_MAX_INVOCATIONS: String(connections),
    },
    GATEWAY,
  );
  try {
    const gatewayIdleRssMiB = (await gateway.rssBytes()) / 2 ** 20;
    // Memory first, on a fresh process: after the streams, garbage would blur it.
    const ping = (i: number): string => JSON.stringify({ action: 'ping', requestId: `p-${i}` });
    const gatewayPing = await burst(gateway, connections, ping);
    const gatewayPingWarm = await burst(gateway, connections, ping);
    const prompt = (i: number): string => `load question ${i}: how does the gateway stream?`;
    const streams = await runLoad({
      url: gateway.url,
      connections,
      prompt,
      expected: (i) => mockAnswerTokens(prompt(i), answerTokens).join(''),
      timeoutMs: 120_000,
    });
    const echoServer = await startChild('bench/echo-server.ts', {}, /ECHO (ws:\/\/\S+)/);
    try {
      await burst(echoServer, connections, ping); // warmed the same way
      const echo = await burst(echoServer, connections, ping);
      return { connections, answerTokens, tokenDelayMs, streams, gatewayIdleRssMiB, gatewayPing, gatewayPingWarm, echo };
    } finally {
      await echoServer.stop();
    }
  } finally {
    await gateway.stop();
  }
}
