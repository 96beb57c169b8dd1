/**
 * The seed of a random test: `FC_SEED` from the environment to replay a failure, else a fresh one.
 * fast-check names the seed (and the path to the shrunk case) in every failure it reports; the
 * tests that draw numbers themselves print theirs with `seeded`.
 */
export function seedFromEnv(): number {
  const given = process.env['FC_SEED'];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got "${given}"`);
    return seed;
  }
  return Math.floor(Math.random() * 0x7fffffff);
}

/**
 * A seeded source of numbers in [0, 1) for a test that draws its own (mulberry32), printing its
 * seed so a failing run can be replayed with FC_SEED.
 */
export function seededRandom(label: string): () => number {
  const seed = seedFromEnv();
  process.stdout.write(`${label}: random seed ${seed} (replay with FC_SEED=${seed})\n`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
