/** Where the answers come from: the built-in mock model, Amazon Bedrock, or an OpenAI-compatible server. */
export type LlmProvider = 'mock' | 'bedrock' | 'openai';

/** List prices in US dollars per million tokens (an estimate of what the provider bills). */
export interface ModelPrices {
  readonly input: number;
  readonly output: number;
  /** Tokens read from the prompt cache; absent where the model does not cache. */
  readonly cacheRead?: number;
  /** Tokens written to the prompt cache (priced as input where absent). */
  readonly cacheWrite?: number;
}

/** How a model caches a prompt's prefix (Bedrock's `cachePoint`), from its model card. */
export interface ModelCaching {
  /** The fewest tokens a checkpoint may cover. */
  readonly minTokens: number;
  /** Checkpoints one request may hold. */
  readonly maxCheckpoints: number;
  /** The times a cached prefix may live. */
  readonly ttls: ReadonlyArray<'5m' | '1h'>;
}

/**
 * What the gateway knows of one model: who serves it, how much it reads and writes, what it can
 * take, and what it costs. The one description every part reads — validation (limits and
 * capabilities, before admission), the token estimate, the docs' model table, the chat page's
 * choices and, later, reasoning, caching and cost in dollars.
 */
export interface ModelSpec {
  readonly id: string;
  /** A name for people (the docs, the page). */
  readonly name: string;
  readonly provider: LlmProvider;
  /** Input and output together, in tokens. */
  readonly contextTokens: number;
  /** The most one answer may write, in tokens. */
  readonly maxOutputTokens: number;
  readonly images: boolean;
  readonly documents: boolean;
  readonly tools: boolean;
  /** Whether it can think before it answers (extended thinking, reasoning effort). */
  readonly reasoning: boolean;
  readonly caching: ModelCaching | undefined;
  /** Undefined for a model the gateway has no price of (one an operator added). */
  readonly prices: ModelPrices | undefined;
  /** Where the figures come from, with the day they were read. */
  readonly source: string;
}

type Entry = Omit<ModelSpec, 'id'>;

const MOCK: Entry = {
  name: 'Mock (built in)',
  provider: 'mock',
  contextTokens: 200_000,
  maxOutputTokens: 100_000,
  images: true,
  documents: true,
  tools: true,
  reasoning: false,
  caching: undefined,
  prices: { input: 0, output: 0 },
  source: 'the gateway’s own mock model',
};

const HAIKU_45: Entry = {
  name: 'Claude Haiku 4.5',
  provider: 'bedrock',
  contextTokens: 200_000,
  maxOutputTokens: 64_000,
  images: true,
  documents: true,
  tools: true,
  reasoning: true,
  caching: { minTokens: 4096, maxCheckpoints: 4, ttls: ['5m', '1h'] },
  // Regional (us., eu., …) profiles; the global profile is 10% cheaper (below).
  prices: { input: 1.1, output: 5.5, cacheRead: 0.11, cacheWrite: 1.375 },
  source: 'Bedrock model card and pricing page, read 2026-12-07',
};

const NOVA_CACHING: ModelCaching = { minTokens: 1000, maxCheckpoints: 4, ttls: ['5m'] };

/**
 * The models the gateway ships defaults for, by the id a request names (Bedrock: the inference
 * profile). Only current models: Bedrock retires models (Claude 3.5 Haiku ended 2026-06-19), and
 * a default naming a retired one fails on its first request.
 */
export const MODEL_TABLE: Readonly<Record<string, ModelSpec>> = Object.fromEntries(
  Object.entries<Entry>({
    'mock.echo-v1': MOCK,
    'mock.echo-v1-large': { ...MOCK, name: 'Mock, large answers' },
    'mock.markdown-v1': { ...MOCK, name: 'Mock, Markdown answers' },
    // Not a default: allowed by name (ALLOWED_MODEL_IDS), to see a conversation's oldest turns left out of a small context window.
    'mock.echo-v1-8k': { ...MOCK, name: 'Mock, 8K context', contextTokens: 8192, maxOutputTokens: 4096 },
    'us.amazon.nova-lite-v1:0': {
      name: 'Amazon Nova Lite',
      provider: 'bedrock',
      contextTokens: 300_000,
      maxOutputTokens: 5000,
      images: true,
      documents: true,
      tools: true,
      reasoning: false,
      caching: NOVA_CACHING,
      prices: { input: 0.06, output: 0.24, cacheRead: 0.015, cacheWrite: 0.06 },
      source: 'Bedrock model card and pricing page, read 2026-12-07',
    },
    'us.amazon.nova-2-lite-v1:0': {
      name: 'Amazon Nova 2 Lite',
      provider: 'bedrock',
      contextTokens: 1_000_000,
      maxOutputTokens: 64_000,
      images: true,
      documents: true,
      tools: true,
      reasoning: true,
      caching: NOVA_CACHING,
      prices: { input: 0.33, output: 2.75, cacheRead: 0.0825, cacheWrite: 0.33 },
      source: 'Bedrock model card (cross-Region profiles only) and pricing page, read 2026-12-07',
    },
    'us.anthropic.claude-haiku-4-5-20251001-v1:0': HAIKU_45,
    'global.anthropic.claude-haiku-4-5-20251001-v1:0': { ...HAIKU_45, name: 'Claude Haiku 4.5 (global)', prices: { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 } },
    'gpt-4o-mini': {
      name: 'GPT-4o mini',
      provider: 'openai',
      contextTokens: 128_000,
      maxOutputTokens: 16_384,
      images: true,
      documents: true,
      tools: true,
      reasoning: false,
      caching: undefined,
      prices: { input: 0.15, output: 0.6, cacheRead: 0.075 },
      source: 'OpenAI model and pricing pages, read 2026-12-07',
    },
  }).map(([id, entry]) => [id, { id, ...entry }]),
);

/**
 * The spec of a model: the table's entry, or — for a model an operator allows that the table
 * does not know (a local Ollama model, a newer Bedrock profile) — one that assumes it can take
 * everything, within the gateway's own output limit, and knows no price. Its provider is
 * whatever the configuration routes it to.
 */
export function specOf(id: string, provider: LlmProvider, maxOutputTokens: number): ModelSpec {
  const known = Object.hasOwn(MODEL_TABLE, id) ? MODEL_TABLE[id] : undefined;
  if (known !== undefined) return { ...known, provider };
  return {
    id,
    name: id,
    provider,
    contextTokens: Number.MAX_SAFE_INTEGER,
    maxOutputTokens,
    images: true,
    documents: true,
    tools: true,
    reasoning: false,
    caching: undefined,
    prices: undefined,
    source: 'not in the gateway’s model table: its limits are the provider’s to enforce',
  };
}

/** The table's models a provider serves when ALLOWED_MODEL_IDS is not set, default first. */
export const DEFAULT_MODELS: Readonly<Record<LlmProvider, readonly string[]>> = {
  mock: ['mock.echo-v1', 'mock.echo-v1-large', 'mock.markdown-v1'],
  // Nova Lite first: the cheapest, so the default; then the current Nova and Claude.
  bedrock: ['us.amazon.nova-lite-v1:0', 'us.amazon.nova-2-lite-v1:0', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'],
  openai: ['gpt-4o-mini'],
};
