/**
 * A tiny seeded PRNG (mulberry32) for property tests. A failing test prints its
 * seed; replay it with `SETTEE_SEED=<seed> node scripts/run-tests.mjs ...`.
 */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from SETTEE_SEED, else a fresh one (tests print it on failure). */
export function seedFromEnv(): number {
  const text = process.env.SETTEE_SEED;
  if (text !== undefined && text !== '') {
    const seed = Number(text);
    if (Number.isInteger(seed)) return seed >>> 0;
  }
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}
