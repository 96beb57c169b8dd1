import { streamProblem } from '../../bench/load-client';

const good = [
  { type: 'accepted', requestId: 'r' },
  { type: 'chunk', requestId: 'r', seq: 0, content: 'Hello ' },
  { type: 'chunk', requestId: 'r', seq: 1, content: 'world' },
  { type: 'done', requestId: 'r', seq: 2 },
];

describe('the load tool’s stream check', () => {
  it('accepts one complete, ordered answer of its own request', () => {
    expect(streamProblem(good, 'r', 'Hello world')).toBeUndefined();
  });

  it.each([
    ['crosstalk', [...good.slice(0, 2), { type: 'chunk', requestId: 'other', seq: 1, content: 'world' }, good[3]!], /another request/],
    ['a lost chunk', [good[0]!, good[2]!, good[3]!], /not contiguous/],
    ['reordered chunks', [good[0]!, good[2]!, good[1]!, good[3]!], /not contiguous/],
    ['no done', good.slice(0, 3), /not done/],
    ['no accepted', good.slice(1), /not accepted/],
    ['an error instead of done', [...good.slice(0, 3), { type: 'error', requestId: 'r' }], /not done/],
    ['done counting other chunks', [...good.slice(0, 3), { type: 'done', requestId: 'r', seq: 5 }], /done.seq 5/],
  ])('reports %s', (_name, frames, problem) => {
    expect(streamProblem(frames, 'r', 'Hello world')).toMatch(problem);
  });

  it('reports text that differs from the expected answer', () => {
    expect(streamProblem(good, 'r', 'Hello there')).toMatch(/text differs/);
  });
});
