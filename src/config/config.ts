import { EnvReader, type Env } from './env';

import type { AppConfig, LlmProvider, LogLevel } from './app-config';
import { defaultModelsOf, PROVIDERS, readProviders } from './providers';
import { specOf, type ModelSpec } from './model-table';

export type { AppConfig, LlmProvider, LogLevel } from './app-config';

/** `MODEL_FALLBACKS=primary=fallback,other=its-fallback` */
function readFallbacks(read: EnvReader): Record<string, string> {
  const fallbacks: Record<string, string> = {};
  for (const pair of read.list('MODEL_FALLBACKS', [])) {
    const at = pair.indexOf('=');
    const from = pair.slice(0, at).trim();
    const to = pair.slice(at + 1).trim();
    if (at <= 0 || to === '' || from === to) {
      read.problem('MODEL_FALLBACKS', `MODEL_FALLBACKS entries must look like primary=fallback, got "${pair}"`);
    } else {
      fallbacks[from] = to;
    }
  }
  return fallbacks;
}

/**
 * DynamoDB when a table is named (the template sets CONNECTIONS_TABLE) or an endpoint is given
 * (local DynamoDB); memory otherwise, which is right for `npm run local` and nowhere else.
 */
function readStore(read: EnvReader): AppConfig['store'] {
  const endpoint = read.url('DYNAMODB_ENDPOINT');
  const named = read.raw('CONNECTIONS_TABLE');
  return {
    kind: named !== undefined || endpoint !== undefined ? 'dynamodb' : 'memory',
    tableName: named ?? 'ws-llm-gateway-local',
    endpoint,
    maxAttempts: read.int('DYNAMODB_MAX_ATTEMPTS', 5, 1, 10),
  };
}

/** HS256 with a shared secret, or RS256/ES256 through a JWKS URL (Cognito, any OIDC provider). */
function readAuth(read: EnvReader): AppConfig['auth'] {
  const jwtSecret = read.raw('AUTH_JWT_SECRET');
  const jwtSecretArn = read.raw('AUTH_JWT_SECRET_ARN');
  const jwksUrl = read.url('AUTH_JWKS_URL');
  if ([jwtSecret, jwtSecretArn, jwksUrl].filter((v) => v !== undefined).length > 1) {
    read.problem('AUTH_JWKS_URL', 'set one of AUTH_JWT_SECRET, AUTH_JWT_SECRET_ARN and AUTH_JWKS_URL, not several');
  }
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    read.problem('AUTH_JWT_SECRET', 'AUTH_JWT_SECRET must be at least 32 bytes (HS256 keys shorter than the hash are weak)');
  }
  if (jwtSecretArn !== undefined && !/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/.test(jwtSecretArn)) {
    read.problem('AUTH_JWT_SECRET_ARN', `AUTH_JWT_SECRET_ARN must be a Secrets Manager secret ARN, got "${jwtSecretArn}"`);
  }
  return {
    mode: jwksUrl !== undefined ? 'jwks' : jwtSecret !== undefined || jwtSecretArn !== undefined ? 'hs256' : 'none',
    jwtSecret,
    jwtSecretArn,
    jwtSecretTtlSeconds: read.int('AUTH_JWT_SECRET_TTL_SECONDS', 300, 0, 86_400),
    jwksUrl,
    issuer: read.raw('AUTH_ISSUER'),
    audience: read.raw('AUTH_AUDIENCE'),
    clockToleranceSeconds: read.int('AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
  };
}

/**
 * Reads what the $connect authorizer needs, and nothing else: its bundle carries no app, so it
 * must not require the app's settings either.
 */
export function loadAuthConfig(env: Env, read = new EnvReader(env)): { readonly auth: AppConfig['auth']; readonly logLevel: LogLevel } {
  const config = {
    auth: readAuth(read),
    logLevel: read.oneOf<LogLevel>('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
  read.assertValid();
  return config;
}

/**
 * Reads the app configuration from the environment. Fails fast with every problem listed,
 * so a bad deployment breaks at init rather than on a user's first message.
 */
/** What a caller that owns some endpoints (the local emulator, tests) sets instead of the environment. */
export interface ConfigOverrides {
  readonly managementEndpoint?: string;
  /** Merged into the queue settings read from the environment, field by field. */
  readonly queue?: Partial<AppConfig['queue']>;
  /** The emulator's S3: its bucket and endpoint. */
  readonly attachments?: { readonly bucket: string; readonly endpoint: string };
}

/**
 * The attachment bytes a worker holds at once, by default: what its memory leaves beside the
 * runtime and the SDK (about 72 MiB measured, with headroom: 96), over the four times their size
 * an answer's attachments take at their peak (bench/worker-memory.ts), from 4 to 64 MiB — 8 MiB
 * at the template's 128 MB. Outside Lambda (no function memory), 12 MiB.
 */
function defaultAttachmentBudget(read: EnvReader): number {
  const memoryMb = Number(read.raw('AWS_LAMBDA_FUNCTION_MEMORY_SIZE') ?? Number.NaN);
  const mib = Number.isFinite(memoryMb) ? Math.min(64, Math.max(4, Math.floor((memoryMb - 96) / 4))) : 12;
  return mib * 1024 * 1024;
}

/** The spec of every model a request may name or fall back to, from the model table. */
function modelsOf(ids: readonly string[], byModel: Readonly<Record<string, LlmProvider>>, provider: LlmProvider, maxOutputTokens: number): Record<string, ModelSpec> {
  return Object.fromEntries(ids.map((id) => [id, specOf(id, byModel[id] ?? provider, maxOutputTokens)]));
}

export function loadConfig(env: Env, overrides: ConfigOverrides = {}, read = new EnvReader(env)): AppConfig {
  const llmProvider = read.oneOf<LlmProvider>('LLM_PROVIDER', PROVIDERS, 'mock');
  const allowedModelIds = read.list('ALLOWED_MODEL_IDS', defaultModelsOf(llmProvider));
  if (allowedModelIds.length === 0) read.problem('ALLOWED_MODEL_IDS', 'ALLOWED_MODEL_IDS must name at least one model');
  const defaultModelId = read.string('DEFAULT_MODEL_ID', allowedModelIds[0] ?? '');
  if (defaultModelId !== '' && !allowedModelIds.includes(defaultModelId)) {
    read.problem('DEFAULT_MODEL_ID', `DEFAULT_MODEL_ID "${defaultModelId}" is not in ALLOWED_MODEL_IDS`);
  }
  const fallbacks = readFallbacks(read);
  const managementEndpoint =
    overrides.managementEndpoint ??
    read.requiredUrl('MANAGEMENT_API_ENDPOINT', 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage} (template.yaml sets it)');
  const queueUrl = overrides.queue?.url ?? read.requiredUrl('JOB_QUEUE_URL', 'the SQS queue URL of the worker (template.yaml sets it)');
  const inLambda = read.raw('AWS_LAMBDA_FUNCTION_NAME') !== undefined;
  const providers = readProviders(read, allowedModelIds, fallbacks, llmProvider);
  const maxOutputTokens = read.int('MAX_OUTPUT_TOKENS', 4096, 1, 200000);

  const config: AppConfig = {
    llmProvider,
    allowedModelIds,
    defaultModelId,
    region: read.string('AWS_REGION', 'us-east-1'),
    managementEndpoint: managementEndpoint ?? '',
    postMaxAttempts: read.int('POST_MAX_ATTEMPTS', 4, 1, 10),
    queue: {
      maxReceiveCount: read.int('QUEUE_MAX_RECEIVE_COUNT', 3, 1, 1000),
      maxAttempts: read.int('SQS_MAX_ATTEMPTS', 3, 1, 10),
      ...overrides.queue,
      url: queueUrl ?? '',
    },
    worker: {
      timeMarginMs: read.int('WORKER_TIME_MARGIN_MS', 10_000, 0, 120_000),
      // From 10 ms, so tests can time a worker out quickly; the template sets 900,000.
      defaultTimeoutMs: read.int('WORKER_TIMEOUT_MS', 900_000, 10, 900_000),
    },
    metrics: read.oneOf<'emf' | 'off'>('METRICS', ['emf', 'off'], inLambda ? 'emf' : 'off'),
    serviceName: read.string('SERVICE_NAME', 'ws-llm-gateway'),
    logLevel: read.oneOf<LogLevel>('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    connectionTtlSeconds: read.int('CONNECTION_TTL_SECONDS', 2 * 3600 + 600, 60, 7 * 24 * 3600),
    requestTtlSeconds: read.int('REQUEST_TTL_SECONDS', 3600, 60, 24 * 3600),
    stream: {
      flushIntervalMs: read.int('STREAM_FLUSH_INTERVAL_MS', 100, 0, 5000),
      maxFlushIntervalMs: read.int('STREAM_FLUSH_MAX_INTERVAL_MS', 800, 0, 5000),
      flushBytes: read.int('STREAM_FLUSH_BYTES', 2048, 1, 16 * 1024),
      cancelCheckIntervalMs: read.int('CANCEL_CHECK_INTERVAL_MS', 500, 0, 10000),
    },
    maxOutputTokens,
    resume: {
      graceSeconds: read.int('RESUME_GRACE_SECONDS', 30, 0, 900),
      retentionSeconds: read.int('RESUME_RETENTION_SECONDS', 600, 0, 86_400),
      checkpointMs: read.int('RESUME_CHECKPOINT_MS', 5000, 0, 60_000),
      // A checkpoint is one DynamoDB item (≤ 400 KB) and a response part may add 128 KB to it.
      checkpointBytes: read.int('RESUME_CHECKPOINT_BYTES', 32 * 1024, 1, 256 * 1024),
    },
    limits: {
      requestsPerMinute: read.int('RATE_LIMIT_REQUESTS_PER_MINUTE', 30, 0, 100_000),
      tokensPerMinute: read.int('RATE_LIMIT_TOKENS_PER_MINUTE', 40_000, 0, 100_000_000),
      concurrentPerConnection: read.int('MAX_CONCURRENT_PER_CONNECTION', 3, 0, 1000),
      concurrentPerUser: read.int('MAX_CONCURRENT_PER_USER', 6, 0, 1000),
      // Slots of one key share one DynamoDB item (at most 400 KB): 1,000 slots stay far below it.
      connectionsPerUser: read.int('MAX_CONNECTIONS_PER_USER', 10, 0, 1000),
    },
    model: {
      firstTokenTimeoutMs: read.int('MODEL_FIRST_TOKEN_TIMEOUT_MS', 20_000, 1, 900_000),
      idleTimeoutMs: read.int('MODEL_IDLE_TIMEOUT_MS', 15_000, 1, 900_000),
      fallbacks,
    },
    store: readStore(read),
    auth: readAuth(read),
    attachments: {
      bucket: overrides.attachments?.bucket ?? read.raw('ATTACHMENTS_BUCKET'),
      endpoint: overrides.attachments?.endpoint ?? read.url('S3_ENDPOINT'),
      urlTtlSeconds: read.int('ATTACHMENT_URL_TTL_SECONDS', 300, 1, 3600),
      uploadsPerMinute: read.int('ATTACHMENT_UPLOADS_PER_MINUTE', 20, 0, 10_000),
      maxBytesPerDay: read.int('ATTACHMENT_MAX_BYTES_PER_DAY', 200 * 1024 * 1024, 0, 1024 ** 4),
      maxBytesPerRequest: read.int('ATTACHMENT_MAX_BYTES_PER_REQUEST', 12 * 1024 * 1024, 1024, 1024 ** 3),
      workerBudgetBytes: read.int('WORKER_ATTACHMENT_BUDGET_BYTES', defaultAttachmentBudget(read), 1024, 1024 ** 3),
    },
    conversations: {
      maxPerUser: read.int('MAX_CONVERSATIONS_PER_USER', 1000, 0, 1_000_000),
      maxBytesPerUser: read.int('MAX_CONVERSATION_BYTES_PER_USER', 256 * 1024 * 1024, 0, 1024 ** 4),
      retentionDays: read.int('CONVERSATION_RETENTION_DAYS', 0, 0, 3650),
    },
    bedrock: {
      endpoint: read.url('BEDROCK_ENDPOINT'),
      maxAttempts: read.int('BEDROCK_MAX_ATTEMPTS', 3, 1, 10),
    },
    providers,
    models: modelsOf([...allowedModelIds, ...Object.values(fallbacks)], providers.byModel, llmProvider, maxOutputTokens),
    mock: {
      tokenDelayMs: read.int('MOCK_TOKEN_DELAY_MS', 20, 0, 10000),
      answerTokens: read.int('MOCK_ANSWER_TOKENS', 120, 1, 100000),
    },
  };
  if (config.worker.timeMarginMs >= config.worker.defaultTimeoutMs) {
    read.problem(
      'WORKER_TIME_MARGIN_MS',
      `WORKER_TIME_MARGIN_MS (${config.worker.timeMarginMs}) must be below WORKER_TIMEOUT_MS (${config.worker.defaultTimeoutMs}), or every answer ends at once with upstream_timeout`,
    );
  }
  if (config.requestTtlSeconds * 1000 <= config.worker.defaultTimeoutMs) {
    read.problem(
      'REQUEST_TTL_SECONDS',
      `REQUEST_TTL_SECONDS (${config.requestTtlSeconds}) must exceed WORKER_TIMEOUT_MS (${config.worker.defaultTimeoutMs} ms), or a long answer outlives its request record and limit slots`,
    );
  }
  read.assertValid();
  return config;
}
