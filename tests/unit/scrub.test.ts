import { scrub } from '../../src/llm/openai-errors';

describe('scrub: what an OpenAI-compatible server echoes never carries the key into the log', () => {
  const KEY = 'abcd1234efgh5678ijkl9012mnop';

  it.each([
    ['the key itself', `bad key ${KEY} here`, `bad key [key] here`],
    ['a long run of its first characters', `key ${KEY.slice(0, 12)}… unknown`, 'key [key]… unknown'],
    ['basic credentials carrying it', `Authorization: Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`, 'Authorization: Basic [key]'],
    ['a bearer token', 'Authorization: Bearer abc.def', 'Authorization: Bearer [key]'],
    ['an API-key shape', 'saw sk-proj-0123456789abc', 'saw [key]'],
    ['URL credentials', 'at https://user:pw@example.com/v1', 'at https://example.com/v1'],
  ])('removes %s', (_what, text, expected) => {
    expect(scrub(text, KEY)).toBe(expected);
  });

  it('keeps a short run of the key\'s first characters (too common to mean the key) and the rest of the text', () => {
    expect(scrub(`abcd1 and more`, KEY)).toBe('abcd1 and more');
  });
});
