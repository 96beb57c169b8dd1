import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { DEFAULT_MODELS, MODEL_TABLE, specOf } from '../../src/config/model-table';
import { PROVIDERS_DOC, renderModelTable, withModelTable } from '../../scripts/model-table-doc';

const root = resolve(__dirname, '../..');
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');

/** A template parameter's default, read off its YAML (the parameters are plain scalars). */
function templateParameter(name: string): string {
  const block = new RegExp(`^  ${name}:\\n((?:    .*\\n)+)`, 'm').exec(read('template.yaml'))?.[1] ?? '';
  return /^ {4}Default: *(.*)$/m.exec(block)?.[1]?.trim().replace(/^'(.*)'$/, '$1') ?? '';
}

/** Models Bedrock has retired: a default naming one fails on its first request. */
const RETIRED = ['anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v1:0'];

describe('the model table', () => {
  it('describes every default model of every provider', () => {
    for (const [provider, ids] of Object.entries(DEFAULT_MODELS)) {
      for (const id of ids) expect({ id, provider: MODEL_TABLE[id]?.provider }).toEqual({ id, provider });
    }
  });

  it('is what the template deploys: its default inference profiles are the Bedrock defaults, its default model the first', () => {
    expect(templateParameter('InferenceProfileIds').split(',')).toEqual(DEFAULT_MODELS.bedrock);
    expect(templateParameter('DefaultModelId')).toBe(DEFAULT_MODELS.bedrock[0]);
  });

  it('is what docs/PROVIDERS.md shows (npm run docs:models) and docs/CONFIGURATION.md names as defaults', () => {
    const doc = read('docs/PROVIDERS.md');
    expect(withModelTable(doc, renderModelTable())).toBe(readFileSync(PROVIDERS_DOC, 'utf8'));
    const configuration = read('docs/CONFIGURATION.md');
    for (const ids of Object.values(DEFAULT_MODELS)) expect(configuration).toContain(`\`${ids.join(',')}\``);
  });

  it('is what the chat page offers: every model it suggests is in the table', () => {
    const options = [...read('test-client.html').matchAll(/<option value="([^"]+)">/g)].map((m) => m[1]!);
    expect(options.length).toBeGreaterThan(0);
    // llama3.2 is the local Ollama example (docs/PROVIDERS.md): outside the table on purpose.
    expect(options.filter((id) => id !== 'llama3.2' && MODEL_TABLE[id] === undefined)).toEqual([]);
  });

  it('names no retired model anywhere a deploy or a user meets one', () => {
    const places = ['template.yaml', 'samconfig.toml', 'test-client.html', 'README.md', 'client/README.md', 'src/config/model-table.ts', ...['CONFIGURATION', 'PROVIDERS', 'DEPLOYING', 'BEDROCK', 'PROTOCOL'].map((d) => `docs/${d}.md`)];
    const found = places.flatMap((path) => RETIRED.filter((id) => read(path).includes(id)).map((id) => `${path}: ${id}`));
    expect(found).toEqual([]);
  });

  it('reaches the configuration: each allowed model has its spec, an unknown one a permissive spec without a price', () => {
    const config = loadConfig({ MANAGEMENT_API_ENDPOINT: 'http://127.0.0.1:1', JOB_QUEUE_URL: 'http://127.0.0.1:1/q', LLM_PROVIDER: 'bedrock', ALLOWED_MODEL_IDS: 'us.amazon.nova-2-lite-v1:0,my.new-model' });
    expect(config.models['us.amazon.nova-2-lite-v1:0']).toMatchObject({ contextTokens: 1_000_000, reasoning: true, provider: 'bedrock' });
    expect(config.models['my.new-model']).toEqual(specOf('my.new-model', 'bedrock', config.maxOutputTokens));
    expect(config.models['my.new-model']?.prices).toBeUndefined();
  });
});
