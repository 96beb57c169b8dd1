import { readFileSync } from 'node:fs';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { generateJobCheck, JOB_CHECK } from '../../scripts/generate-checks';
import { checkJob } from '../../src/models/job-check.generated';
import { isJob, JobSchema } from '../../src/models/job';

const now = Date.now();
const job = {
  version: 1, jobId: 'j', mode: 'stream', connectionId: 'c', requestId: 'r', streamKey: 's', receivedAt: now, queuedAt: now,
  request: { modelId: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', attachmentId: 'att_aaaaaaaaaaaaaaaaaaaaaa' }] }], inferenceConfig: { maxTokens: 5 } },
  inputTokens: 2, ticket: { tokenKey: 'win:x', reservedTokens: 0, windowExpiry: 1.5, slotId: 'j', slots: ['a'] },
};

describe('the worker’s job check, compiled ahead of time', () => {
  it('is what the schema compiles to today (npm run build:checks)', () => {
    expect(readFileSync(JOB_CHECK, 'utf8')).toBe(generateJobCheck());
  });

  it('agrees with TypeBox’s own compiled check on valid and broken jobs', () => {
    const compiled = TypeCompiler.Compile(JobSchema);
    const broken: unknown[] = [
      undefined, null, 'job', [], {},
      { ...job, version: 3 },
      { ...job, mode: 'other' },
      { ...job, jobId: '' },
      { ...job, receivedAt: 1.5 },
      { ...job, request: { ...job.request, messages: [{ role: 'system', content: 'x' }] } },
      { ...job, request: { ...job.request, messages: [{ role: 'user', content: [{ type: 'image', attachmentId: 'nope' }] }] } },
      { ...job, ticket: { ...job.ticket, reservedTokens: -1 } },
      { ...job, ticket: { ...job.ticket, slots: [1] } },
    ];
    expect(checkJob(job)).toBe(true);
    expect(compiled.Check(job)).toBe(true);
    for (const value of broken) expect({ value, ahead: checkJob(value) }).toEqual({ value, ahead: compiled.Check(value) });
    expect(broken.filter((value) => checkJob(value))).toEqual([]);
  });

  it('adds what the schema cannot say: a whole history has a message, a conversation turn is version 2', () => {
    const conversation = { conversationId: 'conv_1', firstIndex: 0, kind: 'send' };
    expect(isJob(job)).toBe(true);
    expect(isJob({ ...job, version: 2, conversation })).toBe(true);
    expect(isJob({ ...job, version: 2, conversation: { ...conversation, kind: 'regenerate' }, request: { ...job.request, messages: [] } })).toBe(true);
    expect(isJob({ ...job, request: { ...job.request, messages: [] } })).toBe(false);
    expect(isJob({ ...job, conversation })).toBe(false);
    expect(isJob({ ...job, version: 2 })).toBe(false);
  });
});
