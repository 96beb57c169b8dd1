import type { ChatModel, ChatModelEvent } from '../../src/llm/chat-model';
import { lazyModel } from '../../src/llm/lazy';
import { routeByModel } from '../../src/llm/router';

const named = (name: string, problem?: string): ChatModel => ({
  preflight: () => Promise.resolve(problem),
  async *stream(request) {
    await Promise.resolve();
    yield { type: 'delta', text: `${name}:${request.modelId}` };
  },
});
const ask = (modelId: string) => ({ modelId, messages: [{ role: 'user' as const, content: 'x' }], inferenceConfig: {} });
async function first(stream: AsyncIterable<ChatModelEvent>): Promise<ChatModelEvent | undefined> {
  for await (const event of stream) return event;
  return undefined;
}

describe('the model router and lazily loaded providers', () => {
  it('sends each model to its provider and the rest to the default one', async () => {
    const router = routeByModel({ bedrock: named('bedrock'), openai: named('openai') }, { a: 'openai', b: 'bedrock' }, 'bedrock');
    expect(await first(router.stream(ask('a'), new AbortController().signal))).toEqual({ type: 'delta', text: 'openai:a' });
    expect(await first(router.stream(ask('b'), new AbortController().signal))).toEqual({ type: 'delta', text: 'bedrock:b' });
    expect(await first(router.stream(ask('fallback-only'), new AbortController().signal))).toEqual({ type: 'delta', text: 'bedrock:fallback-only' });
  });

  it('names the provider of each start-up problem when there are several', async () => {
    expect(await routeByModel({ bedrock: named('b', 'no credentials'), openai: named('o', 'server down') }, {}, 'bedrock').preflight?.()).toBe('bedrock: no credentials openai: server down');
    expect(await routeByModel({ openai: named('o', 'server down') }, {}, 'openai').preflight?.()).toBe('server down');
    expect(await routeByModel({ bedrock: named('b'), openai: named('o') }, {}, 'bedrock').preflight?.()).toBeUndefined();
  });

  it('refuses, as an internal error, a model routed to a provider that was not set up', () => {
    const router = routeByModel({ bedrock: named('b') }, { a: 'openai' }, 'bedrock');
    expect(() => router.stream(ask('a'), new AbortController().signal)).toThrow(/No provider "openai"/);
  });

  it('a lazy provider starts loading at once, and a failed load fails its requests, never the process', async () => {
    let loads = 0;
    const ok = lazyModel(() => {
      loads += 1;
      return Promise.resolve(named('late'));
    });
    expect(loads).toBe(1);
    expect(await first(ok.stream(ask('m'), new AbortController().signal))).toEqual({ type: 'delta', text: 'late:m' });
    expect(loads).toBe(1);
    const broken = lazyModel(() => Promise.reject(new Error('cannot load the SDK')));
    await new Promise((resolve) => setImmediate(resolve)); // an unhandled rejection would fail the test run here
    await expect(first(broken.stream(ask('m'), new AbortController().signal))).rejects.toThrow('cannot load the SDK');
    expect(await broken.preflight?.()).toBe('The model provider could not be loaded: cannot load the SDK');
  });
});
