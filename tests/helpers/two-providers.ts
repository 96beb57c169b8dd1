import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { LocalGateway } from '../../src/local/emulator';
import { BedrockEmulator } from './bedrock-emulator';
import { connectTracked, startLocal } from './local';
import { OpenAiStandIn } from './openai-standin';
import type { TestClient } from './ws-client';

export const NOVA = 'us.amazon.nova-lite-v1:0';
export const OPENAI_TEST_KEY = 'sk-gateway-test-0123456789';

/** One gateway in front of the Bedrock emulator (LLM_PROVIDER) and the Chat Completions stand-in (`gpt-test`), with a client. */
export interface TwoProviders {
  readonly bedrock: BedrockEmulator;
  readonly server: OpenAiStandIn;
  readonly local: LocalGateway;
  readonly client: TestClient;
  stop(): Promise<void>;
}

export async function startTwoProviders(fallbacks: string, env: Record<string, string> = {}): Promise<TwoProviders> {
  const bedrock = await new BedrockEmulator().start();
  const bedrockClient = new BedrockRuntimeClient({ endpoint: bedrock.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  const server = await new OpenAiStandIn().start();
  const local = await startLocal(
    {
      LLM_PROVIDER: 'bedrock',
      ALLOWED_MODEL_IDS: `${NOVA},gpt-test`,
      MODEL_PROVIDERS: 'gpt-test=openai',
      MODEL_FALLBACKS: fallbacks,
      OPENAI_BASE_URL: server.baseUrl,
      OPENAI_API_KEY: OPENAI_TEST_KEY,
      OPENAI_MAX_ATTEMPTS: '1',
      ...env,
    },
    { clients: { bedrockClient } },
  );
  const { client } = await connectTracked(local);
  return {
    bedrock,
    server,
    local,
    client,
    stop: async () => {
      await client.close();
      await local.stop();
      bedrockClient.destroy();
      await bedrock.stop();
      await server.stop();
    },
  };
}
