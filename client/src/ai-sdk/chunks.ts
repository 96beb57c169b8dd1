import type { TurnKept } from '../protocol.generated.js';
import type { StreamEvent, StreamResult } from '../request.js';

/** The UI message stream chunks this transport emits (the AI SDK's `UIMessageChunk`, the kinds used). */
export type Chunk =
  | { type: 'start'; messageId?: string; messageMetadata?: unknown }
  | { type: 'start-step' }
  | { type: 'finish-step' }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | { type: 'tool-input-start'; toolCallId: string; toolName: string }
  | { type: 'tool-input-delta'; toolCallId: string; inputTextDelta: string }
  | { type: 'tool-input-available'; toolCallId: string; toolName: string; input: unknown }
  | { type: 'finish'; finishReason?: 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'error' | 'other'; messageMetadata?: unknown }
  | { type: 'error'; errorText: string }
  | { type: 'abort' };

const FINISH: Readonly<Record<string, 'stop' | 'length' | 'content-filter' | 'tool-calls'>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  content_filtered: 'content-filter',
  tool_use: 'tool-calls',
};

/** What `finish` carries as message metadata: the model, the usage and the timings of the answer. */
export interface GatewayMessageMetadata {
  readonly requestId: string;
  readonly modelId: string;
  readonly stopReason: string;
  readonly usage: StreamResult['usage'];
  readonly metrics: StreamResult['metrics'];
  /** In a conversation kept on the gateway: where the turn was kept (its messages' ids). */
  readonly conversation?: TurnKept;
}

/**
 * Turns a stream's events into UI message chunks in the order the AI SDK enforces: `start` and
 * `start-step`, each
 * text block as `text-start` / `text-delta`… / `text-end`, each call as `tool-input-start` /
 * `tool-input-delta`… and, at the end, `tool-input-available` with its parsed input, then
 * `finish-step` and `finish` (`error` or `abort` instead when the answer fails or is stopped).
 */
export class ChunkWriter {
  private text: string | undefined;
  private blocks = 0;
  private readonly calls = new Set<string>();

  constructor(private readonly emit: (chunk: Chunk) => void) {}

  /** One answer is one step of the UI message (a tool loop continues the message with the next). */
  start(messageId: string): void {
    this.emit({ type: 'start', messageId });
    this.emit({ type: 'start-step' });
  }

  event(event: StreamEvent): void {
    if (event.type === 'text') {
      if (this.text === undefined) {
        this.text = `text-${(this.blocks += 1)}`;
        this.emit({ type: 'text-start', id: this.text });
      }
      this.emit({ type: 'text-delta', id: this.text, delta: event.text });
      return;
    }
    this.endText();
    if (!this.calls.has(event.toolUseId)) {
      this.calls.add(event.toolUseId);
      this.emit({ type: 'tool-input-start', toolCallId: event.toolUseId, toolName: event.name });
    }
    if (event.inputDelta !== '') this.emit({ type: 'tool-input-delta', toolCallId: event.toolUseId, inputTextDelta: event.inputDelta });
  }

  finish(result: StreamResult): void {
    this.endText();
    for (const use of result.toolUses) this.emit({ type: 'tool-input-available', toolCallId: use.toolUseId, toolName: use.name, input: use.input });
    const metadata: GatewayMessageMetadata = {
      requestId: result.requestId,
      modelId: result.modelId,
      stopReason: result.stopReason,
      usage: result.usage,
      metrics: result.metrics,
      ...(result.conversation !== undefined ? { conversation: result.conversation } : {}),
    };
    this.emit({ type: 'finish-step' });
    this.emit({ type: 'finish', finishReason: FINISH[result.stopReason] ?? 'other', messageMetadata: metadata });
  }

  fail(error: unknown): void {
    this.endText();
    // By its code, not its class: the error may come from another copy of the client.
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'cancelled') this.emit({ type: 'abort' });
    else this.emit({ type: 'error', errorText: error instanceof Error ? `${typeof code === 'string' ? `${code}: ` : ''}${error.message}` : String(error) });
  }

  private endText(): void {
    if (this.text === undefined) return;
    this.emit({ type: 'text-end', id: this.text });
    this.text = undefined;
  }
}
