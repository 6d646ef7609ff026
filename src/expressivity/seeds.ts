/**
 * Seed streams for sweeps: every random draw of a metric depends only on (user seed, a stream id, the task's
 * shape), never on which worker ran it or in which order, so a sweep is reproducible from its seed.
 */

/** Stream ids: one per kind of random draw. */
export const STREAM = {
  expressibility: 1,
  rank: 2,
  trainability: 3,
  reachability: 4,
  stiefelReference: 5,
} as const;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from `seed` and integer keys (a hash, so nearby keys give unrelated streams). */
export function streamSeed(seed: number, ...keys: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x5bd1e995);
  for (const k of keys) h = fmix32((h + Math.imul((k >>> 0) + 0x9e3779b9, 0x27d4eb2d)) >>> 0);
  return h;
}
