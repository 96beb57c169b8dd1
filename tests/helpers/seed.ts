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
