import { responseParts } from '../delivery/response-parts';
import type { AnswerDeps, Generation, Sink } from './generation';

/**
 * The `llm/chat` sink: the text collected, then the whole answer at the end in `response` parts
 * (each within the message limit), all but the last posted here; the last is the terminal frame.
 */
export function chatSink(deps: AnswerDeps, g: Generation): Sink {
  const { requestId, metadata } = g.job;
  let content = '';
  return {
    write: (text) => {
      content += text;
    },
    // A chat answer carries its calls whole, at the end.
    writeTool: () => undefined,
    finish: async (end, _firstTokenAt, _totalMs, toolUses) => {
      const parts = responseParts(content, toolUses, { requestId, modelId: end.modelId, stopReason: end.stopReason, usage: end.usage, ...(metadata ? { metadata } : {}) });
      const last = parts.pop()!;
      for (const part of parts) await deps.target.post(part, part.part);
      return last;
    },
    fail: () => Promise.resolve(),
  };
}
