/**
 * A small seeded PRNG (mulberry32): the same seed draws the same numbers, so two designs meet the
 * same wave, and a fault injected "one request in five" is injected on the same requests in every
 * run — a test whose request count is fixed cannot draw no fault at all by chance.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
