import type { AppConfig, LlmProvider } from './app-config';
import type { EnvReader } from './env';
import { DEFAULT_MODELS } from './model-table';

export const PROVIDERS: readonly LlmProvider[] = ['mock', 'bedrock', 'openai'];


const OPENAI_API = 'https://api.openai.com/v1';

/** The models a provider serves when ALLOWED_MODEL_IDS is not set. */
export function defaultModelsOf(provider: LlmProvider): readonly string[] {
  return DEFAULT_MODELS[provider];
}

/**
 * `MODEL_PROVIDERS=gpt-4o-mini=openai,llama3.1=openai`: which provider answers which model (an
 * allowed one, or a fallback a client cannot ask for by name); the rest go to LLM_PROVIDER.
 */
function readModelProviders(read: EnvReader, allowed: readonly string[], known: ReadonlySet<string>, fallback: LlmProvider): Record<string, LlmProvider> {
  const byModel: Record<string, LlmProvider> = Object.fromEntries(allowed.map((id) => [id, fallback]));
  for (const pair of read.list('MODEL_PROVIDERS', [])) {
    // Model ids may contain '=' nowhere we know of, but ':' and '.' (Bedrock's): split at the last '='.
    const at = pair.lastIndexOf('=');
    const model = pair.slice(0, at).trim();
    const provider = pair.slice(at + 1).trim() as LlmProvider;
    if (at <= 0 || !PROVIDERS.includes(provider)) {
      read.problem('MODEL_PROVIDERS', `MODEL_PROVIDERS entries must look like model=${PROVIDERS.join('|')}, got "${pair}"`);
    } else if (!known.has(model)) {
      read.problem('MODEL_PROVIDERS', `MODEL_PROVIDERS names "${model}", which is neither in ALLOWED_MODEL_IDS nor a fallback in MODEL_FALLBACKS`);
    } else {
      byModel[model] = provider;
    }
  }
  return byModel;
}

/**
 * Which provider answers each allowed model, and how to reach the OpenAI-compatible one. The key
 * comes from OPENAI_API_KEY (locally) or, in AWS, from the Secrets Manager secret named by
 * OPENAI_API_KEY_SECRET_ARN, read by the worker at cold start (never a plain-text parameter).
 */
export function readProviders(
  read: EnvReader,
  allowed: readonly string[],
  fallbacks: Readonly<Record<string, string>>,
  fallback: LlmProvider,
): AppConfig['providers'] {
  const known = new Set([...allowed, ...Object.values(fallbacks)]);
  const byModel = readModelProviders(read, allowed, known, fallback);
  const baseUrl = read.urlOr('OPENAI_BASE_URL', OPENAI_API);
  const apiKey = read.raw('OPENAI_API_KEY');
  const apiKeySecretArn = read.raw('OPENAI_API_KEY_SECRET_ARN');
  const used = Object.values(byModel).includes('openai');
  if (used && apiKey === undefined && apiKeySecretArn === undefined) {
    read.problem('OPENAI_API_KEY', 'OPENAI_API_KEY (or, in AWS, OPENAI_API_KEY_SECRET_ARN) is required when a model is served by the openai provider; any non-empty value for a server that takes none (e.g. "ollama")');
  }
  if (apiKey !== undefined && apiKeySecretArn !== undefined) {
    read.problem('OPENAI_API_KEY', 'set OPENAI_API_KEY or OPENAI_API_KEY_SECRET_ARN, not both');
  }
  // OpenAI's own API wants max_completion_tokens (its reasoning models refuse max_tokens);
  // compatible servers (vLLM, Ollama, LM Studio, Groq) know max_tokens.
  const official = new URL(baseUrl).hostname === 'api.openai.com';
  return {
    byModel,
    openai: {
      baseUrl,
      apiKey,
      apiKeySecretArn,
      maxTokensField: read.oneOf('OPENAI_MAX_TOKENS_FIELD', ['max_tokens', 'max_completion_tokens'], official ? 'max_completion_tokens' : 'max_tokens'),
      maxAttempts: read.int('OPENAI_MAX_ATTEMPTS', 3, 1, 10),
    },
  };
}
