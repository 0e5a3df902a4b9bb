/** A seeded random source: the same seed gives the same sequence on every machine. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(values: readonly T[]): T;
  /** One value of `[value, weight]` pairs, with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
  /** A log-normally distributed integer with the given median; `spread` is sigma of the log. */
  logNormal(median: number, spread: number): number;
}

/** Mixes numbers into one 32-bit seed (murmur3 finaliser per step), so nearby inputs give unrelated seeds. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const cumulativeCache = new WeakMap<object, number[]>();

/** Running sums of the weights, computed once per (usually constant) table. */
function cumulativeWeights(choices: readonly (readonly [unknown, number])[]): number[] {
  let cumulative = cumulativeCache.get(choices);
  if (!cumulative) {
    let total = 0;
    cumulative = choices.map(([, weight]) => (total += weight));
    cumulativeCache.set(choices, cumulative);
  }
  return cumulative;
}

/** mulberry32: small, fast and good enough for test data. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T,
    weighted: <T>(choices: readonly (readonly [T, number])[]): T => {
      const cumulative = cumulativeWeights(choices);
      const roll = next() * (cumulative[cumulative.length - 1] as number);
      let i = 0;
      while (i < cumulative.length - 1 && roll >= (cumulative[i] as number)) i++;
      return (choices[i] as readonly [T, number])[0];
    },
    logNormal: (median, spread) => {
      // Box-Muller; 1 - next() keeps the logarithm finite.
      const gaussian = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      return Math.max(0, Math.round(median * Math.exp(spread * gaussian)));
    },
  };
  return random;
}

/** `count` distinct indices in [0, n), chosen by Floyd's algorithm (memory grows with `count`, not `n`). */
export function sampleIndices(random: Random, n: number, count: number): number[] {
  const wanted = Math.min(Math.max(0, Math.floor(count)), n);
  const chosen = new Set<number>();
  for (let j = n - wanted; j < n; j++) {
    const t = random.int(0, j);
    chosen.add(chosen.has(t) ? j : t);
  }
  // Keep the order in which they were drawn shuffled, but independent of Set insertion details.
  return [...chosen];
}
