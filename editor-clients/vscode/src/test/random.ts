// A small deterministic generator (mulberry32) for generated test cases: a failing case is
// replayed by its seed.

export interface Random {
  next(): number; // [0, 1)
  pick<T>(xs: readonly T[]): T;
  int(below: number): number;
}

export function random(seed: number): Random {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}
