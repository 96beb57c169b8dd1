/**
 * A 20-turn conversation two ways on the local gateway with the DynamoDB emulator (dynalite):
 * stateless — the client sends the whole history every turn, as before issue 38 — and kept on
 * the server — it sends only the new message (`data.conversationId`). Per turn: the bytes the
 * client sends (and API Gateway's 32 KB message units), DynamoDB's read and write units (every
 * request the stores make goes through a loopback proxy that asks for its ConsumedCapacity:
 * dynalite sizes items as DynamoDB documents it — a write 1 unit per 1 KB, the larger of the item
 * before and after for an update; a read 1 unit per 4 KB strongly consistent, half that
 * eventually consistent; a Query by the sum of what it read — and the proxy splits them between
 * the conversation store's items and the rest), their cost per 1,000 turns at on-demand prices
 * (bench/cost-report.ts's), and the time from the client's frame to the model call.
 * `npx tsx bench/conversation-turn.ts` prints the section; `npm run bench` writes it to docs/BENCHMARKS.md.
 */
import http from 'node:http';
import { loadLocalServerConfig } from '../src/config/local';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../src/llm/chat-model';
import { MockChatModel } from '../src/llm/mock';
import { startDynalite } from '../src/local/dynalite';
import { startLocalGateway } from '../src/local/emulator';
import { textOf } from '../src/models/content';
import { LIMITS } from '../src/models/limits';
import { TestClient, type Frame } from '../tests/helpers/ws-client';
import { PRICES } from './cost-report';
import { NO_LIMITS } from './env';

const TURNS = 20;
const ANSWER_TOKENS = 500;
const QUESTION_WORDS = 200;
/** A short answer time (1 s): what differs between the modes does not depend on it (the cancel watch's reads and the log's checkpoints do, equally in both). */
const TOKEN_DELAY_MS = 2;
/** API Gateway bills a WebSocket message per 32 KB. */
const MESSAGE_UNIT = 32 * 1024;

type Store = 'conversation' | 'gateway';
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const METERED = new Set([...WRITES, 'GetItem', 'Query']);

/** Units and requests, by which store's items they touch. */
interface Tally {
  readonly requests: Map<string, number>;
  readonly read: Record<Store, number>;
  readonly write: Record<Store, number>;
}
const emptyTally = (): Tally => ({ requests: new Map(), read: { conversation: 0, gateway: 0 }, write: { conversation: 0, gateway: 0 } });

/** A request as the proxy reads it: only where its partition key is. */
interface KeyedRequest {
  readonly Key?: Item;
  readonly Item?: Item;
  readonly ExpressionAttributeValues?: Item;
  readonly RequestItems?: Record<string, Array<{ readonly DeleteRequest?: { readonly Key?: Item }; readonly PutRequest?: { readonly Item?: Item } }>>;
}
type Item = Readonly<Record<string, { readonly S?: string } | undefined>>;

/** The partition a request names: its key's, its item's, a Query's `:pk`, a batch's first. */
function partitionOf(request: KeyedRequest): string {
  const batch = Object.values(request.RequestItems ?? {})[0]?.[0];
  const key = request.Key ?? request.Item ?? batch?.DeleteRequest?.Key ?? batch?.PutRequest?.Item;
  return key?.['pk']?.S ?? request.ExpressionAttributeValues?.[':pk']?.S ?? '';
}
/** The conversation store's items (a conversation under its owner, its messages and parts) and its per-user counters. */
const storeOf = (pk: string): Store => (pk.startsWith('OWNER#') || pk.startsWith('CONV#') || pk.startsWith('RATE#conv') ? 'conversation' : 'gateway');

/** A loopback proxy in front of dynalite tallying each request's ConsumedCapacity, by store. */
async function meteringProxy(target: string): Promise<{ readonly endpoint: string; tally: Tally; stop(): Promise<void> }> {
  const state = { tally: emptyTally() };
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop() ?? 'unknown';
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      const request = JSON.parse(body.toString('utf8') || '{}') as KeyedRequest & Record<string, unknown>;
      const store = storeOf(partitionOf(request));
      const name = `${operation} (${store})`;
      state.tally.requests.set(name, (state.tally.requests.get(name) ?? 0) + 1);
      if (METERED.has(operation)) body = Buffer.from(JSON.stringify({ ...request, ReturnConsumedCapacity: 'TOTAL' }));
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
        const answered: Buffer[] = [];
        answer.on('data', (part: Buffer) => answered.push(part));
        answer.on('end', () => {
          const text = Buffer.concat(answered).toString('utf8');
          if (METERED.has(operation)) {
            const parsed = JSON.parse(text || '{}') as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }>; __type?: string };
            const consumed = [parsed.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
            // A conditional write refused is billed too: one unit (every item written conditionally here is under 1 KB);
            // a Query that reads nothing the least a read costs (dynalite reports 0).
            const least = WRITES.has(operation) ? (String(parsed.__type).endsWith('ConditionalCheckFailedException') ? 1 : 0) : request['ConsistentRead'] === true ? 1 : 0.5;
            const units = consumed || least;
            (WRITES.has(operation) ? state.tally.write : state.tally.read)[store] += units;
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(answered));
        });
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get tally() {
      return state.tally;
    },
    set tally(next: Tally) {
      state.tally = next;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The mock, noting when it was last called and with what (the end of the path to the model). */
class Watched implements ChatModel {
  calledAt = Number.NaN;
  lastRequest: ChatModelRequest | undefined;
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.calledAt = performance.now();
    this.lastRequest = request;
    yield* this.inner.stream(request, signal);
  }
}

/** One turn as measured. */
export interface TurnMeasure {
  readonly clientBytes: number;
  readonly readUnits: Record<Store, number>;
  readonly writeUnits: Record<Store, number>;
  readonly requests: Readonly<Record<string, number>>;
  /** From the client's frame to the model call (local, loopback). */
  readonly toModelMs: number;
}

export interface ConversationTurnResults {
  readonly turns: number;
  readonly answerTokens: number;
  readonly questionWords: number;
  readonly stateless: readonly TurnMeasure[];
  readonly conversation: readonly TurnMeasure[];
}

const WORDS = 'how would the gateway keep a long conversation when the client reloads the page and the model needs every earlier turn to answer well'.split(' ');
/** The k-th question: 200 words, its number first. */
const question = (k: number): string => [`question ${k}:`, ...Array.from({ length: QUESTION_WORDS - 2 }, (_, i) => WORDS[(i * 7 + k) % WORDS.length]!)].join(' ');

export async function measureConversationTurn(turns = TURNS): Promise<ConversationTurnResults> {
  const dynalite = await startDynalite();
  const proxy = await meteringProxy(dynalite.endpoint);
  const model = new Watched(new MockChatModel({ tokenDelayMs: TOKEN_DELAY_MS, answerTokens: ANSWER_TOKENS }));
  const local = await startLocalGateway({
    server: loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1' }),
    env: { LOG_LEVEL: 'silent', DYNAMODB_ENDPOINT: proxy.endpoint, ...NO_LIMITS },
    deps: { model },
  });
  let ids = 0;
  try {
    const client = await TestClient.connect(local.url);
    /** One frame that ends in `done`: its bytes, units and requests (until every invocation has ended), and the time to the model call. */
    const measure = async (frame: { action: string; data: Record<string, unknown> }): Promise<{ measure: TurnMeasure; text: string; done: Frame }> => {
      await local.idle();
      proxy.tally = emptyTally();
      const requestId = `turn-${(ids += 1)}`;
      const text = JSON.stringify({ ...frame, requestId });
      const sentAt = performance.now();
      client.send(text);
      const done = await client.terminal(requestId, 60_000);
      if (done.type !== 'done') throw new Error(`conversation-turn bench: ${requestId} ended with ${JSON.stringify(done).slice(0, 300)}`);
      const toModelMs = model.calledAt - sentAt;
      // The worker releases what the answer held after `done`, and its invocation ends: count those too.
      await local.idle();
      const { tally } = proxy;
      const answer = client.of(requestId).filter((f) => f.type === 'chunk').map((f) => String(f.content)).join('');
      return {
        measure: { clientBytes: Buffer.byteLength(text), readUnits: { ...tally.read }, writeUnits: { ...tally.write }, requests: Object.fromEntries(tally.requests), toModelMs },
        text: answer,
        done,
      };
    };
    // Warm-up, on both paths: the connection's own items and every code path loaded.
    await measure({ action: 'llm/stream', data: { messages: [{ role: 'user', content: 'warm up' }] } });
    await measure({ action: 'llm/stream', data: { conversationId: await create(client), message: { role: 'user', content: 'warm up' } } });

    // Stateless: the client keeps the history and sends all of it with each new question.
    const stateless: TurnMeasure[] = [];
    const history: Array<{ role: 'user' | 'assistant'; content: string }> = [];
    for (let k = 1; k <= turns; k += 1) {
      history.push({ role: 'user', content: question(k) });
      const turn = await measure({ action: 'llm/stream', data: { messages: [...history] } });
      history.push({ role: 'assistant', content: turn.text });
      stateless.push(turn.measure);
    }
    // Kept on the server: only the new question.
    const conversationId = await create(client);
    const conversation: TurnMeasure[] = [];
    for (let k = 1; k <= turns; k += 1) {
      const turn = await measure({ action: 'llm/stream', data: { conversationId, message: { role: 'user', content: question(k) } } });
      // The same conversation reached the model either way.
      const sent = model.lastRequest?.messages ?? [];
      if (sent.length !== 2 * k - 1 || textOf(sent[sent.length - 1]!.content) !== question(k)) throw new Error(`conversation-turn bench: turn ${k} sent ${sent.length} messages to the model`);
      conversation.push(turn.measure);
    }
    await client.close();
    return { turns, answerTokens: ANSWER_TOKENS, questionWords: QUESTION_WORDS, stateless, conversation };
  } finally {
    await local.stop();
    await proxy.stop();
    await dynalite.stop();
  }
}

/** Makes a conversation (`conv/create`) and returns its id. */
async function create(client: TestClient): Promise<string> {
  const requestId = `create-${Math.random().toString(36).slice(2)}`;
  client.send({ action: 'conv/create', requestId });
  await client.waitFor((frames) => frames.some((f) => f.requestId === requestId), 10_000, 'conv/create');
  const frame = client.of(requestId)[0]!;
  if (frame.type !== 'conversation') throw new Error(`conversation-turn bench: conv/create failed: ${JSON.stringify(frame)}`);
  return (frame['conversation'] as { conversationId: string }).conversationId;
}

const mean = (values: readonly number[]): number => values.reduce((n, v) => n + v, 0) / Math.max(1, values.length);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const both = (m: TurnMeasure, units: 'readUnits' | 'writeUnits'): number => m[units].conversation + m[units].gateway;
const messagesIn = (m: TurnMeasure): number => Math.max(1, Math.ceil(m.clientBytes / MESSAGE_UNIT));
const dynamoCost = (m: TurnMeasure): number => both(m, 'writeUnits') * PRICES.writeUnit + both(m, 'readUnits') * PRICES.readUnit;

/** The report's section. */
export function conversationTurnSection(r: ConversationTurnResults): string[] {
  const first = (turns: readonly TurnMeasure[]): TurnMeasure => turns[0]!;
  const last = (turns: readonly TurnMeasure[]): TurnMeasure => turns[turns.length - 1]!;
  const fmt = (value: number, digits = 1): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const row = (what: string, of: (m: TurnMeasure) => number, digits = 1, unit = ''): string => {
    const cell = (turns: readonly TurnMeasure[]): string => `${fmt(mean(turns.map(of)), digits)}${unit} (${fmt(of(first(turns)), digits)} → ${fmt(of(last(turns)), digits)})`;
    return `| ${what} | ${cell(r.stateless)} | ${cell(r.conversation)} |`;
  };
  const dollars = (turns: readonly TurnMeasure[]): string => `$${(mean(turns.map(dynamoCost)) * 1000).toFixed(4)}`;
  const api = (turns: readonly TurnMeasure[]): string => `$${(mean(turns.map(messagesIn)) * PRICES.apiGatewayMessage * 1000).toFixed(4)}`;
  const ops = [...new Set(r.conversation.flatMap((m) => Object.keys(m.requests)))].sort();
  const total = (turns: readonly TurnMeasure[], key: (m: TurnMeasure) => number): number => turns.reduce((n, m) => n + key(m), 0);
  const growth = (last(r.stateless).clientBytes - first(r.stateless).clientBytes) / Math.max(1, r.turns - 1);
  return [
    '## A conversation kept on the server against a stateless one',
    '',
    `A ${r.turns}-turn conversation on the local gateway with DynamoDB (dynalite), ${r.questionWords}-word questions and ${r.answerTokens}-token answers (the mock at ${TOKEN_DELAY_MS} ms a token), sent`,
    'two ways on one connection: **stateless**, the whole history in `data.messages` every turn (as before conversations),',
    'and **kept on the server**, only the new message with `data.conversationId`. Each request the stores make goes',
    'through a loopback proxy that asks for its ConsumedCapacity — dynalite sizes items as DynamoDB documents: a write',
    '1 unit per 1 KB (an update the larger of the item before and after), a read 1 unit per 4 KB strongly consistent and',
    'half that eventually consistent, a Query by the sum of what it read (one that reads nothing: the least a read costs) — split between the conversation store\'s items',
    '(the conversation, its messages, the per-user counters) and the rest (connection, request, slots, rate, stream).',
    'Each turn is counted from its frame until every invocation it caused has ended. Means over the turns, then turn 1 → turn',
    `${r.turns} in brackets; prices are the cost table's on-demand ones (bench/cost-report.ts).`,
    '',
    '| per turn | stateless | kept on the server |',
    '|---|---|---|',
    row('bytes the client sends', (m) => m.clientBytes, 0, ' B'),
    row('API Gateway messages in (32 KB units)', messagesIn, 1),
    row('DynamoDB write units', (m) => both(m, 'writeUnits'), 1),
    row('… of the conversation store', (m) => m.writeUnits.conversation, 1),
    row('DynamoDB read units', (m) => both(m, 'readUnits'), 1),
    row('… of the conversation store', (m) => m.readUnits.conversation, 1),
    row('the frame to the model call', (m) => m.toModelMs, 1, ' ms'),
    `| DynamoDB per 1,000 turns (mean) | ${dollars(r.stateless)} | ${dollars(r.conversation)} |`,
    `| API Gateway's inbound messages per 1,000 turns | ${api(r.stateless)} | ${api(r.conversation)} |`,
    '',
    `Over the ${r.turns} turns the client sent ${fmt(total(r.stateless, (m) => m.clientBytes) / 1024, 0)} KiB stateless and ${fmt(total(r.conversation, (m) => m.clientBytes) / 1024, 1)} KiB kept on the server; stateless, each turn's frame grows by ${fmt(growth / 1024)} KiB, so at turn ${Math.ceil((LIMITS.maxMessageBytes - first(r.stateless).clientBytes) / growth) + 1} it would pass the 128 KB a frame may hold. Median from the frame to the model call: ${fmt(median(r.stateless.map((m) => m.toModelMs)))} ms stateless, ${fmt(median(r.conversation.map((m) => m.toModelMs)))} ms kept on the server — before the model call the route takes the conversation and checks the user's stored bytes (two conditional updates, beside the admission's), the worker reads the whole history (one Query, beside its claim; its read units grow with the conversation) and then writes the user message — the one round trip a turn adds in series (on dynalite each costs several ms; DynamoDB in the region answers in a few). The model reads the same history either way, so its price is the same.`,
    '',
    `Requests per turn kept on the server (mean; turn 1 → turn ${r.turns}):`,
    '',
    '| request (items of) | per turn |',
    '|---|---|',
    ...ops.map((op) => `| ${op} | ${fmt(mean(r.conversation.map((m) => m.requests[op] ?? 0)))} (${fmt(first(r.conversation).requests[op] ?? 0, 0)} → ${fmt(last(r.conversation).requests[op] ?? 0, 0)}) |`),
    '',
  ];
}

if (require.main === module) {
  measureConversationTurn().then(
    (results) => process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(results)}\n` : `${conversationTurnSection(results).join('\n')}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
