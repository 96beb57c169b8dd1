import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
import { firstCharacters } from '../models/text';
import { estimatePromptTokens } from './tokens';
import { MARKDOWN_MOCK_MODEL, markdownTokens } from './mock-markdown';
import { mockToolPieces, type MockPiece } from './mock-tools';
import { describeAttachments } from './mock-attachments';
import { textOf } from '../models/content';

export interface MockModelOptions {
  /** Delay before each token, like a model's inter-token latency. */
  readonly tokenDelayMs: number;
  /** Length of the answer when maxTokens does not cut it shorter. */
  readonly answerTokens: number;
}

const VOCABULARY = (
  'the gateway streams each answer in small frames so the page can render text as it arrives ' +
  'while the model is still thinking about what comes next and every frame carries a sequence ' +
  'number that lets a client notice a gap API Gateway keeps the socket open and Lambda posts ' +
  'back through the management endpoint which is how a serverless chat stays responsive'
).split(' ');


/** A deterministic pseudo-random sequence seeded by the prompt (xorshift32). */
function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** The full token list of the answer to a prompt: the same prompt always gives the same answer. */
export function mockAnswerTokens(prompt: string, count: number): string[] {
  const random = seededRandom(prompt);
  // By characters: a UTF-16 slice could cut an emoji in half and emit a lone surrogate.
  const echo = firstCharacters(prompt.replace(/\s+/g, ' ').trim(), 200);
  const tokens = `You said: "${echo}". `.split(/(?<= )/);
  while (tokens.length < count) {
    const word = VOCABULARY[Math.floor(random() * VOCABULARY.length)] ?? 'gateway';
    const endOfSentence = random() < 0.08;
    tokens.push(endOfSentence ? `${word}. ` : `${word} `);
  }
  return tokens.slice(0, count);
}

/**
 * The built-in model for local development, demos and load tests: streams a plausible,
 * deterministic answer derived from the last user message, token by token (`mock.markdown-v1`:
 * a fixed Markdown answer, newlines kept). Honours
 * maxTokens and stopSequences and reports usage like a real provider.
 */
export class MockChatModel implements ChatModel {
  constructor(private readonly options: MockModelOptions) {}

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    const withTools = mockToolPieces(request);
    if (withTools !== undefined) {
      yield* this.streamPieces(request, withTools, signal);
      return;
    }
    const received = describeAttachments(request.messages[request.messages.length - 1]);
    if (received !== undefined) {
      yield* this.streamPieces(request, received.split(/(?<= )/).map((text) => ({ text })), signal);
      return;
    }
    const prompt = textOf(request.messages[request.messages.length - 1]?.content ?? '');
    const maxTokens = request.inferenceConfig.maxTokens ?? Number.POSITIVE_INFINITY;
    const tokens = request.modelId === MARKDOWN_MOCK_MODEL
      ? markdownTokens(prompt).slice(0, maxTokens)
      : mockAnswerTokens(prompt, Math.min(this.options.answerTokens, maxTokens));
    const stops = request.inferenceConfig.stopSequences ?? [];
    const inputTokens = estimatePromptTokens(request);

    let text = '';
    let emitted = 0;
    for (const token of tokens) {
      if (this.options.tokenDelayMs > 0) await sleep(this.options.tokenDelayMs, undefined, { signal });
      signal.throwIfAborted();
      const next = text + token;
      const stopAt = firstStop(next, stops);
      if (stopAt !== -1) {
        const rest = next.slice(text.length, stopAt);
        if (rest !== '') yield { type: 'delta', text: rest };
        emitted += 1;
        yield end(request.modelId, 'stop_sequence', inputTokens, emitted);
        return;
      }
      text = next;
      emitted += 1;
      yield { type: 'delta', text: token };
    }
    yield end(request.modelId, emitted >= maxTokens ? 'max_tokens' : 'end_turn', inputTokens, emitted);
  }

  /**
   * The tool flow's answer, a piece per token: text, or a piece of a call's input. It stops with
   * `tool_use` after calls, and `max_tokens` where maxTokens cuts it (inside a call too).
   */
  private async *streamPieces(request: ChatModelRequest, pieces: readonly MockPiece[], signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    const maxTokens = request.inferenceConfig.maxTokens ?? Number.POSITIVE_INFINITY;
    const inputTokens = estimatePromptTokens(request);
    let emitted = 0;
    for (const piece of pieces) {
      if (emitted >= maxTokens) {
        yield end(request.modelId, 'max_tokens', inputTokens, emitted);
        return;
      }
      if (this.options.tokenDelayMs > 0) await sleep(this.options.tokenDelayMs, undefined, { signal });
      signal.throwIfAborted();
      emitted += 1;
      yield 'text' in piece ? { type: 'delta', text: piece.text } : { type: 'tool_delta', ...piece };
    }
    yield end(request.modelId, pieces.some((piece) => 'toolUseId' in piece) ? 'tool_use' : 'end_turn', inputTokens, emitted);
  }
}

function firstStop(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at !== -1 && (first === -1 || at < first)) first = at;
  }
  return first;
}

function end(modelId: string, stopReason: string, inputTokens: number, outputTokens: number): ChatModelEvent {
  return {
    type: 'end',
    modelId,
    stopReason,
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
  };
}
