import type { LlmProvider, ModelSpec } from './model-table';

export type { LlmProvider };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything the Lambda app needs, read and validated once per cold start. */
export interface AppConfig {
  readonly llmProvider: LlmProvider;
  readonly allowedModelIds: readonly string[];
  readonly defaultModelId: string;
  /** What is known of each allowed model and fallback (src/config/model-table.ts). */
  readonly models: Readonly<Record<string, ModelSpec>>;
  readonly region: string;
  /** The API Gateway management endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`). */
  readonly managementEndpoint: string;
  /** How often the management client tries a post (429 LimitExceeded is retried with backoff). */
  readonly postMaxAttempts: number;
  /** The queue between the route handler and the worker (see docs/DESIGN.md, "Long answers"). */
  readonly queue: {
    /** The SQS queue URL; its host is the endpoint (the local emulator serves one too). */
    readonly url: string;
    /** The queue's redrive maxReceiveCount: on that delivery a job that cannot start is reported to the client. */
    readonly maxReceiveCount: number;
    readonly maxAttempts: number;
  };
  readonly worker: {
    /** A generation ends this long before the worker invocation would time out. */
    readonly timeMarginMs: number;
    /** The time limit assumed when the runtime reports none (local worker invocations). */
    readonly defaultTimeoutMs: number;
  };
  /** `emf`: CloudWatch Embedded Metric Format lines on stdout (in Lambda); `off` elsewhere. */
  readonly metrics: 'emf' | 'off';
  /** The `service` dimension of every metric and the name in logs. */
  readonly serviceName: string;
  readonly logLevel: LogLevel;
  /** Lifetime of a connection record: past API Gateway's 2 h connection limit, with a margin. */
  readonly connectionTtlSeconds: number;
  /** Lifetime of a request record (cancel flag) after its generation started. */
  readonly requestTtlSeconds: number;
  readonly stream: {
    /** A chunk frame is posted at the latest this long after the first buffered delta. */
    readonly flushIntervalMs: number;
    /** The longest the interval grows to over a long answer (×1.7 a frame after the first second). */
    readonly maxFlushIntervalMs: number;
    /** A chunk frame is posted as soon as this many bytes of text are buffered. */
    readonly flushBytes: number;
    /** How often a running generation looks for a cancel flag set by another invocation. */
    readonly cancelCheckIntervalMs: number;
  };
  readonly maxOutputTokens: number;
  /** Resumable answers: how long a generation waits for a resume after its client left, and how long an ended answer stays resumable. */
  readonly resume: {
    readonly graceSeconds: number;
    readonly retentionSeconds: number;
    /** The log of sent frames is written at most this often (0: every frame), and at the end. */
    readonly checkpointMs: number;
    /** …or as soon as this many bytes of frames wait to be logged. */
    readonly checkpointBytes: number;
  };
  /** Per-user limits, enforced in the shared store so they hold across Lambda instances. 0 = off. */
  readonly limits: {
    readonly requestsPerMinute: number;
    readonly tokensPerMinute: number;
    readonly concurrentPerConnection: number;
    readonly concurrentPerUser: number;
    readonly connectionsPerUser: number;
  };
  readonly model: {
    /** Longest wait for the first text token (including connecting), then `upstream_timeout`. */
    readonly firstTokenTimeoutMs: number;
    /** Longest wait between two text tokens, then `upstream_timeout`. */
    readonly idleTimeoutMs: number;
    /** Per model: the model to use when it fails before sending any text (throttled, unavailable). */
    readonly fallbacks: Readonly<Record<string, string>>;
  };
  /** Where shared state lives: memory (one process) or DynamoDB (every Lambda instance). */
  readonly store: {
    readonly kind: 'memory' | 'dynamodb';
    readonly tableName: string;
    /** Overrides the DynamoDB endpoint; missing tables are then created at start. */
    readonly endpoint: string | undefined;
    readonly maxAttempts: number;
  };
  /** $connect authentication; `mode: 'none'` runs the gateway open (local development only). */
  readonly auth: {
    readonly mode: 'none' | 'hs256' | 'jwks';
    readonly jwtSecret: string | undefined;
    /** The HS256 key's Secrets Manager secret, read at cold start (instead of jwtSecret). */
    readonly jwtSecretArn: string | undefined;
    /** How long a key read from jwtSecretArn is kept before it is read again. */
    readonly jwtSecretTtlSeconds: number;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly clockToleranceSeconds: number;
  };
  /** Images and documents uploaded to S3 through presigned URLs (see docs/PROTOCOL.md, "Attachments"). */
  readonly attachments: {
    /** ATTACHMENTS_BUCKET; unset: `llm/upload` and attachment blocks are refused. */
    readonly bucket: string | undefined;
    /** S3_ENDPOINT: the emulator's S3 (path-style); unset in AWS. */
    readonly endpoint: string | undefined;
    /** How long a presigned upload URL is valid. */
    readonly urlTtlSeconds: number;
    /** Uploads per user per minute (0 = off). */
    readonly uploadsPerMinute: number;
    /** Bytes a user may upload per UTC day (0 = off). */
    readonly maxBytesPerDay: number;
    /** Bytes of attachments one request may carry, all together (each counted once). */
    readonly maxBytesPerRequest: number;
    /**
     * Attachment bytes one worker process holds at once, across the answers of its batch: an
     * answer that does not fit waits for earlier ones to end (its requests' limit is capped at it).
     */
    readonly workerBudgetBytes: number;
  };
  /** Conversations kept on the server (v1 addition). */
  readonly conversations: {
    /** Conversations one user may keep (0 = no limit). */
    readonly maxPerUser: number;
    /** Bytes of messages one user may keep across their conversations (0 = no limit): checked before each turn. */
    readonly maxBytesPerUser: number;
    /** Days a message (and the attachments it keeps) is kept after it was written, and a conversation after its last turn; 0 = until deleted. */
    readonly retentionDays: number;
  };
  readonly bedrock: {
    /** Overrides the Bedrock runtime endpoint (emulators, VPC endpoints). */
    readonly endpoint: string | undefined;
    /** Attempts per ConverseStream call; the SDK retries throttling and 5xx before the stream. */
    readonly maxAttempts: number;
  };
  readonly providers: {
    /** The provider that answers each allowed model id (MODEL_PROVIDERS, else LLM_PROVIDER). */
    readonly byModel: Readonly<Record<string, LlmProvider>>;
    readonly openai: {
      /** Any Chat Completions server: OpenAI, Azure OpenAI's v1 API, vLLM, Ollama, LM Studio, Groq… */
      readonly baseUrl: string;
      readonly apiKey: string | undefined;
      /** In AWS: the Secrets Manager secret holding the key, read by the worker at cold start. */
      readonly apiKeySecretArn: string | undefined;
      readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
      /** Attempts per call; the SDK retries 429, 5xx and connection errors before the stream. */
      readonly maxAttempts: number;
    };
  };
  readonly mock: {
    readonly tokenDelayMs: number;
    readonly answerTokens: number;
  };
}
