import type { DoneFrame, ToolUseEntry } from '../models/server-frames';
import { ConnectionGoneError } from '../utils/websocket';
import { ChunkStream } from '../delivery/chunk-stream';
import { fitToolUses } from '../delivery/terminal-fit';
import type { AnswerDeps, Generation, Sink } from './generation';

/**
 * The `llm/stream` sink: text and tool-call deltas coalesced into `chunk` and `tool_use` frames
 * as they come, then `done`. A call's input already went out in its `tool_use` frames, so `done`
 * lists it with `inputOmitted` when repeating it would take the frame past the message limit.
 */
export function streamSink(deps: AnswerDeps, g: Generation): Sink {
  const { requestId, receivedAt, metadata } = g.job;
  const chunks = new ChunkStream({
    requestId,
    post: (frame) => deps.target.post(frame, frame.seq),
    onFailure: g.abort,
    flushIntervalMs: deps.stream.flushIntervalMs,
    maxFlushIntervalMs: deps.stream.maxFlushIntervalMs,
    flushBytes: deps.stream.flushBytes,
  });
  return {
    write: (text) => chunks.write(text),
    writeTool: (toolUseId, name, inputDelta) => chunks.writeTool(toolUseId, name, inputDelta),
    finish: async (end, firstTokenAt, totalMs, toolUses) => {
      await chunks.end();
      const done = (listed: ToolUseEntry[] | undefined): DoneFrame => ({
        type: 'done',
        requestId,
        seq: chunks.sent,
        modelId: end.modelId,
        stopReason: end.stopReason,
        usage: end.usage,
        metrics: { timeToFirstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - receivedAt, totalMs },
        ...(listed !== undefined && listed.length > 0 ? { toolUses: listed } : {}),
        ...(metadata ? { metadata } : {}),
      });
      return done(fitToolUses(toolUses, done).toolUses);
    },
    fail: async (reason) => {
      // Text the model already produced reaches the client before the error frame does.
      if (!(reason instanceof ConnectionGoneError)) await chunks.end().catch(() => undefined);
      chunks.close();
    },
  };
}
