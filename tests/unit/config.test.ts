import { readFileSync } from 'node:fs';
import { loadAuthConfig, loadConfig } from '../../src/config/config';
import { ConfigError, EnvReader } from '../../src/config/env';
import { loadLocalServerConfig } from '../../src/config/local';
import { startLocal } from '../helpers/local';
import { UNIT_ENV as BASE } from '../helpers/unit-gateway';

describe('loadConfig', () => {
  it('gives working defaults for the mock provider', () => {
    const config = loadConfig(BASE);
    expect(config.llmProvider).toBe('mock');
    expect(config.allowedModelIds).toContain(config.defaultModelId);
    expect(config.managementEndpoint).toBe(BASE.MANAGEMENT_API_ENDPOINT);
    expect(config.connectionTtlSeconds).toBeGreaterThan(2 * 3600);
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      ...BASE,
      ALLOWED_MODEL_IDS: 'a, b',
      DEFAULT_MODEL_ID: 'b',
      STREAM_FLUSH_INTERVAL_MS: '25',
      STREAM_FLUSH_BYTES: '512',
      MOCK_TOKEN_DELAY_MS: '0',
      POST_MAX_ATTEMPTS: '2',
      QUEUE_MAX_RECEIVE_COUNT: '5',
      WORKER_TIME_MARGIN_MS: '3000',
      METRICS: 'emf',
    });
    expect(config.allowedModelIds).toEqual(['a', 'b']);
    expect(config.defaultModelId).toBe('b');
    expect(config.stream).toMatchObject({ flushIntervalMs: 25, flushBytes: 512 });
    expect(config.mock.tokenDelayMs).toBe(0);
    expect(config.postMaxAttempts).toBe(2);
    expect(config.queue).toMatchObject({ url: BASE.JOB_QUEUE_URL, maxReceiveCount: 5 });
    expect(config.worker.timeMarginMs).toBe(3000);
    expect(config.metrics).toBe('emf');
  });

  it('writes EMF metrics in Lambda and none elsewhere unless told', () => {
    expect(loadConfig(BASE).metrics).toBe('off');
    expect(loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'api' }).metrics).toBe('emf');
    expect(loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'api', METRICS: 'off' }).metrics).toBe('off');
  });

  it('sizes the worker’s attachment budget from the function’s memory: 8 MiB at 128 MB, 4 to 64 MiB, 12 MiB outside Lambda', () => {
    const budget = (env: Record<string, string>): number => loadConfig({ ...BASE, ...env }).attachments.workerBudgetBytes / 2 ** 20;
    expect(budget({})).toBe(12);
    expect(budget({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' })).toBe(8);
    expect(budget({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' })).toBe(40);
    expect(budget({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '100' })).toBe(4);
    expect(budget({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' })).toBe(64);
    expect(budget({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', WORKER_ATTACHMENT_BUDGET_BYTES: String(20 * 2 ** 20) })).toBe(20);
  });

  it('reports every invalid variable at once, naming each', () => {
    let error: unknown;
    try {
      loadConfig({ LLM_PROVIDER: 'vertex', STREAM_FLUSH_BYTES: 'lots', DEFAULT_MODEL_ID: 'x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/LLM_PROVIDER must be one of mock, bedrock, openai/);
    expect(problems).toMatch(/STREAM_FLUSH_BYTES must be an integer/);
    expect(problems).toMatch(/DEFAULT_MODEL_ID "x" is not in ALLOWED_MODEL_IDS/);
    expect(problems).toMatch(/MANAGEMENT_API_ENDPOINT is required/);
    expect(problems).toMatch(/JOB_QUEUE_URL is required/);
  });

  it('rejects a management endpoint that is not an http(s) URL', () => {
    expect(() => loadConfig({ ...BASE, MANAGEMENT_API_ENDPOINT: 'wss://abc/prod' })).toThrow(/MANAGEMENT_API_ENDPOINT must be an http\(s\) URL/);
  });
});

describe('loadLocalServerConfig', () => {
  it('binds to loopback on port 3000 by default with API Gateway timeouts', () => {
    expect(loadLocalServerConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      stage: 'local',
      idleTimeoutMs: 600_000,
      maxConnectionMs: 7_200_000,
      queue: { visibilityTimeoutMs: 960_000, maxInvocations: 10, batchSize: 4 },
    });
  });

  it('refuses, at the emulator’s start, a visibility timeout that would let a running job be delivered twice', async () => {
    // The worker timeout is the app's setting (read once, there); the emulator checks it against its queue.
    await expect(startLocal({ WORKER_TIMEOUT_MS: '60000' }, { server: { queue: { visibilityTimeoutMs: 60_000, maxInvocations: 1, batchSize: 10 } } })).rejects.toThrow(
      /must be above WORKER_TIMEOUT_MS/,
    );
  });

  it('refuses the old WORKER_MAX_CONCURRENCY, which bounded invocations and not generations, naming its successor', () => {
    expect(() => loadLocalServerConfig({ WORKER_MAX_CONCURRENCY: '1' })).toThrow(/WORKER_MAX_CONCURRENCY is now WORKER_MAX_INVOCATIONS.*WORKER_BATCH_SIZE/);
    expect(loadLocalServerConfig({ WORKER_MAX_INVOCATIONS: '2', WORKER_BATCH_SIZE: '5' }).queue).toMatchObject({ maxInvocations: 2, batchSize: 5 });
  });

  it('rejects a stage that could not be a path segment', () => {
    expect(() => loadLocalServerConfig({ STAGE: 'a/b' })).toThrow(/STAGE must match/);
  });

  it('refuses timings that cannot work together, naming both settings', () => {
    expect(() => loadConfig({ ...BASE, WORKER_TIMEOUT_MS: '30000', WORKER_TIME_MARGIN_MS: '30000' })).toThrow(
      /WORKER_TIME_MARGIN_MS \(30000\) must be below WORKER_TIMEOUT_MS \(30000\)/,
    );
    expect(() => loadConfig({ ...BASE, REQUEST_TTL_SECONDS: '600', WORKER_TIMEOUT_MS: '900000' })).toThrow(/REQUEST_TTL_SECONDS \(600\) must exceed WORKER_TIMEOUT_MS/);
    expect(() => loadConfig({ ...BASE, WORKER_TIMEOUT_MS: '30000', WORKER_TIME_MARGIN_MS: '5000' })).not.toThrow();
  });
});

describe('docs/CONFIGURATION.md', () => {
  /** Every variable the three loaders read, with the default each falls back to. */
  function readByCode(): Map<string, string> {
    const env = { MANAGEMENT_API_ENDPOINT: 'https://a.example/prod', JOB_QUEUE_URL: 'https://q.example/1/jobs' };
    const reader = new EnvReader(env);
    loadConfig(env, {}, reader);
    loadLocalServerConfig(env, reader);
    loadAuthConfig(env, reader);
    return reader.defaults;
  }
  const documented = new Map(
    [...readFileSync('docs/CONFIGURATION.md', 'utf8').matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]),
  );
  /** Defaults the code derives from another setting, and how the page words them. */
  const DERIVED: Record<string, string> = { DEFAULT_MODEL_ID: 'first allowed id' };

  it('lists exactly the variables the code reads', () => {
    expect([...documented.keys()].sort()).toEqual([...readByCode().keys()].sort());
  });

  it('shows the code’s default for each of them', () => {
    for (const [name, fallback] of readByCode()) {
      const cell = documented.get(name) ?? '';
      if (name in DERIVED) expect({ name, cell }).toEqual({ name, cell: DERIVED[name] });
      else if (fallback === '') expect({ name, quoted: /`[^`]+`/.test(cell) }).toEqual({ name, quoted: false });
      else expect({ name, cell }).toEqual({ name, cell: expect.stringContaining(`\`${fallback}\``) });
    }
  });
});

describe('providers: MODEL_PROVIDERS and the openai settings', () => {
  const BASE_ENV = { MANAGEMENT_API_ENDPOINT: 'https://a.example/prod', JOB_QUEUE_URL: 'https://q.example/1/jobs' };
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ ...BASE_ENV, ...env });
      return [];
    } catch (error) {
      return (error as ConfigError).problems as string[];
    }
  };

  it('routes listed models (Bedrock ids with ":" included) and leaves the rest to LLM_PROVIDER', () => {
    const config = loadConfig({ ...BASE_ENV, LLM_PROVIDER: 'bedrock', ALLOWED_MODEL_IDS: 'us.amazon.nova-lite-v1:0,gpt-4o-mini,llama3.1', MODEL_PROVIDERS: 'gpt-4o-mini=openai, llama3.1=openai', MODEL_FALLBACKS: 'llama3.1=local.fallback', OPENAI_API_KEY: 'k' });
    expect(config.providers.byModel).toEqual({ 'us.amazon.nova-lite-v1:0': 'bedrock', 'gpt-4o-mini': 'openai', 'llama3.1': 'openai' });
    const fallbackRouted = loadConfig({ ...BASE_ENV, ALLOWED_MODEL_IDS: 'mock.echo-v1', MODEL_FALLBACKS: 'mock.echo-v1=gpt-4o-mini', MODEL_PROVIDERS: 'gpt-4o-mini=openai', OPENAI_API_KEY: 'k' });
    expect(fallbackRouted.providers.byModel['gpt-4o-mini']).toBe('openai');
  });

  it('refuses a malformed pair, an unknown provider, an unknown model, and an openai model without a key', () => {
    expect(problemsOf({ MODEL_PROVIDERS: 'no-equals' })).toEqual([expect.stringContaining('model=mock|bedrock|openai')]);
    expect(problemsOf({ MODEL_PROVIDERS: 'mock.echo-v1=vertex' })).toEqual([expect.stringContaining('"mock.echo-v1=vertex"')]);
    expect(problemsOf({ MODEL_PROVIDERS: 'gpt-9=openai', OPENAI_API_KEY: 'k' })).toEqual([expect.stringContaining('"gpt-9", which is neither in ALLOWED_MODEL_IDS')]);
    expect(problemsOf({ LLM_PROVIDER: 'openai' })).toEqual([expect.stringContaining('OPENAI_API_KEY (or, in AWS, OPENAI_API_KEY_SECRET_ARN) is required')]);
    expect(problemsOf({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k', OPENAI_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x' })).toEqual([expect.stringContaining('not both')]);
    expect(problemsOf({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'ftp://x' })).toEqual([expect.stringContaining('OPENAI_BASE_URL must be an http(s) URL')]);
  });

  it('sends maxTokens as max_completion_tokens to OpenAI itself and as max_tokens elsewhere, unless told', () => {
    const of = (env: Record<string, string>) => loadConfig({ ...BASE_ENV, LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k', ...env }).providers.openai;
    expect(of({})).toMatchObject({ baseUrl: 'https://api.openai.com/v1', maxTokensField: 'max_completion_tokens', maxAttempts: 3 });
    expect(of({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/' })).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1', maxTokensField: 'max_tokens' });
    expect(of({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_MAX_TOKENS_FIELD: 'max_completion_tokens' }).maxTokensField).toBe('max_completion_tokens');
    expect(loadConfig({ ...BASE_ENV, LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k' }).allowedModelIds).toEqual(['gpt-4o-mini']);
  });
});
