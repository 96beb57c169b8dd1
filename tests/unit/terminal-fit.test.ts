import { responseParts } from '../../src/delivery/response-parts';
import { fitToolUses } from '../../src/delivery/terminal-fit';
import { GatewayError } from '../../src/models/errors';
import type { ResponseFrame, ToolUse, ToolUseEntry } from '../../src/models/server-frames';

const use = (id: string, size: number): ToolUse => ({ toolUseId: id, name: 'f', input: { data: 'x'.repeat(size) } });
const frameOf = (listed: ToolUseEntry[] | undefined) => ({ type: 'done', requestId: 'r', ...(listed ? { toolUses: listed } : {}) });
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };

describe('fitToolUses', () => {
  it('lists every input when the frame fits', () => {
    const uses = [use('a', 10), use('b', 20)];
    expect(fitToolUses(uses, frameOf, 1000)).toEqual({ toolUses: uses, omitted: [] });
  });

  it('leaves out the largest inputs first, only as many as it must, keeping the order of the calls', () => {
    const uses = [use('small', 100), use('large', 5000), use('middle', 3000), use('tiny', 10)];
    const fitted = fitToolUses(uses, frameOf, 4000);
    expect(fitted.toolUses).toEqual([uses[0], { toolUseId: 'large', name: 'f', inputOmitted: true }, uses[2], uses[3]]);
    expect(fitted.omitted).toEqual([uses[1]]);
    expect(bytes(frameOf(fitted.toolUses))).toBeLessThanOrEqual(4000);
  });

  it('refuses, with an error that ends the request, calls too many to list even without their inputs', () => {
    const uses = Array.from({ length: 50 }, (_, i) => use(`call-${i}`, 10));
    expect(() => fitToolUses(uses, frameOf, 1000)).toThrow(GatewayError);
  });
});

describe('responseParts', () => {
  const end = { requestId: 'r', modelId: 'm', stopReason: 'tool_use', usage };
  const joined = (parts: ResponseFrame[], id: string): string => parts.filter((p) => p.toolUseId === id).map((p) => p.inputDelta).join('');

  it('is one part for a small answer', () => {
    expect(responseParts('hello', [use('a', 5)], end, 4000)).toEqual([
      { type: 'response', requestId: 'r', part: 0, parts: 1, content: 'hello', modelId: 'm', stopReason: 'tool_use', usage, toolUses: [use('a', 5)] },
    ]);
  });

  it('numbers the parts in order, each within the limit, text first and the omitted inputs before the last part', () => {
    const text = 'word '.repeat(2000);
    const uses = [use('big', 9000), use('small', 10)];
    const parts = responseParts(text, uses, end, 4000);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));
    for (const p of parts) {
      expect(p.parts).toBe(parts.length);
      expect(bytes(p)).toBeLessThanOrEqual(4000);
    }
    expect(parts.map((p) => p.content).join('')).toBe(text);
    expect(JSON.parse(joined(parts, 'big'))).toEqual(uses[0]!.input);
    const last = parts[parts.length - 1]!;
    expect(last.toolUses).toEqual([{ toolUseId: 'big', name: 'f', inputOmitted: true }, uses[1]]);
    expect(parts.slice(0, -1).every((p) => p.stopReason === undefined && p.toolUses === undefined)).toBe(true);
  });
});
