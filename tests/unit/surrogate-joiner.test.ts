import fc from 'fast-check';
import { isWellFormed, SurrogateJoiner } from '../../src/models/text';
import { seedFromEnv } from '../helpers/seed';

/** Runs a joiner over the pieces; returns what it gave out, piece by piece, and at the end. */
function join(pieces: readonly string[]): string[] {
  const joiner = new SurrogateJoiner();
  return [...pieces.map((piece) => joiner.push(piece)), joiner.flush()];
}

describe('SurrogateJoiner: no piece of a model\'s text carries half a surrogate pair', () => {
  it('holds a high surrogate at the end of a piece until its partner arrives', () => {
    expect(join(['a\ud83d', '\ude00b'])).toEqual(['a', '😀b', '']);
    expect(join(['\ud83d', '\ude00'])).toEqual(['', '😀', '']);
  });

  it('replaces a surrogate that never gets a partner with U+FFFD', () => {
    expect(join(['a\ud83d'])).toEqual(['a', '\ufffd']);
    expect(join(['\ude00a'])).toEqual(['\ufffda', '']);
    expect(join(['a\ud83db'])).toEqual(['a\ufffdb', '']);
  });

  it('gives out well-formed pieces that join to the text, however a well-formed text is split (fast-check)', () => {
    const splits = fc.string({ unit: 'grapheme', maxLength: 40 }).chain((text) =>
      fc.tuple(fc.constant(text), fc.uniqueArray(fc.nat({ max: text.length }), { maxLength: 8 })),
    );
    fc.assert(
      fc.property(splits, ([text, cuts]) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), text.length];
        const pieces = points.slice(1).map((end, i) => text.slice(points[i], end));
        const out = join(pieces);
        expect(out.every(isWellFormed)).toBe(true);
        expect(out.join('')).toBe(text);
      }),
      { seed: seedFromEnv(), numRuns: 300 },
    );
  });
});
