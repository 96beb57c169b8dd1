import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/env';
import { loadLocalServerConfig } from '../../src/config/local';

const BASE = { MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod' };

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
    });
    expect(config.allowedModelIds).toEqual(['a', 'b']);
    expect(config.defaultModelId).toBe('b');
    expect(config.stream).toMatchObject({ flushIntervalMs: 25, flushBytes: 512 });
    expect(config.mock.tokenDelayMs).toBe(0);
    expect(config.postMaxAttempts).toBe(2);
  });

  it('reports every invalid variable at once, naming each', () => {
    let error: unknown;
    try {
      loadConfig({ LLM_PROVIDER: 'openai', STREAM_FLUSH_BYTES: 'lots', DEFAULT_MODEL_ID: 'x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/LLM_PROVIDER must be one of mock, bedrock/);
    expect(problems).toMatch(/STREAM_FLUSH_BYTES must be an integer/);
    expect(problems).toMatch(/DEFAULT_MODEL_ID "x" is not in ALLOWED_MODEL_IDS/);
    expect(problems).toMatch(/MANAGEMENT_API_ENDPOINT is required/);
  });

  it('rejects a management endpoint that is not an http(s) URL', () => {
    expect(() => loadConfig({ MANAGEMENT_API_ENDPOINT: 'wss://abc/prod' })).toThrow(/MANAGEMENT_API_ENDPOINT must be an http\(s\) URL/);
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
    });
  });

  it('rejects a stage that could not be a path segment', () => {
    expect(() => loadLocalServerConfig({ STAGE: 'a/b' })).toThrow(/STAGE must match/);
  });
});
