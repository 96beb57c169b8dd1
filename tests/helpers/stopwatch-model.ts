import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';

/** A model wrapper that notes when it was last called (the end of the path to the model). */
export class Stopwatch implements ChatModel {
  calledAt = Number.NaN;
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.calledAt = performance.now();
    yield* this.inner.stream(request, signal);
  }
}
