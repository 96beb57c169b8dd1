import { MODEL_TABLE, specOf } from '../../src/config/model-table';
import { GatewayError } from '../../src/models/errors';
import type { JobRequest } from '../../src/models/job';
import { assertFitsModel } from '../../src/services/model-fit';

const NOVA = MODEL_TABLE['us.amazon.nova-lite-v1:0']!;
const ask = (extra: Partial<JobRequest> = {}, maxTokens?: number): JobRequest => ({
  modelId: NOVA.id,
  messages: [{ role: 'user', content: 'hi' }],
  inferenceConfig: maxTokens === undefined ? {} : { maxTokens },
  ...extra,
});
const refusal = (run: () => void): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'invalid_request') return error.message;
    throw error;
  }
  return 'admitted';
};

describe('a request fits its model, as the model table describes it', () => {
  it('admits what the model can take', () => {
    expect(refusal(() => assertFitsModel(NOVA, ask({}, 5000), 10))).toBe('admitted');
  });

  it('refuses more output than the model writes, naming the model and its limit', () => {
    expect(refusal(() => assertFitsModel(NOVA, ask({}, 5001), 10))).toBe('Invalid request: data.inferenceConfig.maxTokens must be at most 5000 for Amazon Nova Lite ("us.amazon.nova-lite-v1:0").');
  });

  it('refuses a conversation its context window cannot hold, the answer’s room counted', () => {
    expect(refusal(() => assertFitsModel(NOVA, ask({}, 1000), 299_000))).toBe('admitted');
    expect(refusal(() => assertFitsModel(NOVA, ask({}, 1001), 299_000))).toContain('more than the 300000 Amazon Nova Lite ("us.amazon.nova-lite-v1:0") holds');
  });

  it('refuses images, documents or tools a model cannot take, and takes an unknown model at its word', () => {
    const textOnly = { ...NOVA, images: false, documents: false, tools: false };
    const image = ask({ messages: [{ role: 'user', content: [{ type: 'image', attachmentId: 'att_aaaaaaaaaaaaaaaaaaaaaa' }] }] });
    const document = ask({ messages: [{ role: 'user', content: [{ type: 'document', attachmentId: 'att_aaaaaaaaaaaaaaaaaaaaaa' }] }] });
    const tools = ask({ tools: [{ name: 'f', inputSchema: { type: 'object' } }] });
    expect(refusal(() => assertFitsModel(textOnly, image, 10))).toContain('cannot read images');
    expect(refusal(() => assertFitsModel(textOnly, document, 10))).toContain('cannot read documents');
    expect(refusal(() => assertFitsModel(textOnly, tools, 10))).toContain('cannot use tools');
    expect(refusal(() => assertFitsModel(specOf('my.model', 'bedrock', 4096), ask({ ...tools }, 4096), 1e9))).toBe('admitted');
  });
});
