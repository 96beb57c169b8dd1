import { answerSegments } from '../helpers/answer-segments';
import type { Frame } from '../helpers/ws-client';

/** The property test's reader of answers must see the breaks it exists to catch. */
describe('answerSegments', () => {
  const accepted: Frame = { type: 'accepted', requestId: 'r', resumeToken: 't' };
  const chunk = (seq: number): Frame => ({ type: 'chunk', requestId: 'r', seq, content: 'x' });
  const done = (seq: number): Frame => ({ type: 'done', requestId: 'r', seq });

  it('reads a whole answer, a refusal, a lone error and a merged resume without a problem', () => {
    const frames = [accepted, chunk(0), chunk(1), { type: 'resumed', requestId: 'r', fromSeq: 1 }, chunk(1), chunk(2), done(3), { type: 'error', refusedRequestId: 'r' }, { type: 'error', requestId: 'r' }];
    expect(answerSegments(frames, 'r')).toEqual({ answers: 2, open: 0, merges: 1, refusals: 1, problems: [] });
  });

  it.each<[string, Frame[]]>([
    ['a gap in the chunks', [accepted, chunk(0), chunk(2), done(3)]],
    ['a chunk twice', [accepted, chunk(0), chunk(0), done(1)]],
    ['a frame after the terminal', [accepted, chunk(0), done(1), chunk(1)]],
    ['a frame after resumed_elsewhere', [accepted, { type: 'error', requestId: 'r', code: 'resumed_elsewhere' }, chunk(0)]],
    ['a second accepted inside an answer', [accepted, accepted, done(0)]],
    ['done.seq that does not count the chunks', [accepted, chunk(0), done(2)]],
    ['chunks missing after a resume from within the answer', [{ type: 'resumed', requestId: 'r', fromSeq: 2 }, done(5)]],
    ['done.seq below the chunks after a resume', [{ type: 'resumed', requestId: 'r', fromSeq: 2 }, chunk(2), done(1)]],
    ['a response part out of order', [accepted, { type: 'response', requestId: 'r', part: 1, parts: 2 }]],
  ])('reports %s', (_what, frames) => {
    expect(answerSegments(frames, 'r').problems).toHaveLength(1);
  });

  it('takes a resume from beyond the end: no chunk is due and done.seq is below its fromSeq', () => {
    const frames = [accepted, chunk(0), chunk(1), done(2), { type: 'resumed', requestId: 'r', fromSeq: 16 }, done(2)];
    expect(answerSegments(frames, 'r')).toEqual({ answers: 2, open: 0, merges: 0, refusals: 0, problems: [] });
  });

  it('takes a chat answer replayed whole by a resume on its own connection: its parts from 0 again', () => {
    const part = (n: number): Frame => ({ type: 'response', requestId: 'r', part: n, parts: 3 });
    expect(answerSegments([accepted, part(0), { type: 'resumed', requestId: 'r', fromSeq: 0 }, part(0), part(1), part(2)], 'r')).toMatchObject({ answers: 1, open: 0, merges: 1, problems: [] });
    expect(answerSegments([accepted, part(0), { type: 'resumed', requestId: 'r', fromSeq: 0 }, part(1), part(2)], 'r').problems).toHaveLength(1);
  });

  it('counts an answer still open', () => {
    expect(answerSegments([accepted, chunk(0)], 'r')).toMatchObject({ answers: 1, open: 1, problems: [] });
  });
});
