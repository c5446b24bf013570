import type { RequestCtx } from '../../pipeline/request-ctx.js';

/** What a balancer may ask about an upstream's endpoints (indexes into the upstream's list). */
export interface Candidates {
  readonly count: number;
  /** Not tried by this request yet, healthy (unless in panic), weight > 0, below max_pending. */
  usable(i: number): boolean;
  weight(i: number): number;
  /** This worker's requests in flight to endpoint i. */
  inFlight(i: number): number;
}

/**
 * One load-balancing policy, instantiated per worker and upstream for each config generation, so
 * its counters are plain per-thread memory. pick() returns an index whose usable(i) is true, or -1.
 */
export interface Balancer {
  pick(c: Candidates, ctx: RequestCtx): number;
  /** How a try to endpoint i went: time to its response head, and whether it failed (policies that learn from latency). */
  observe?(i: number, rttMs: number, failed: boolean): void;
}

/** A random usable index, or -1. Starts at a random place and scans, so no allocation. */
export function randomUsable(c: Candidates, skip: number): number {
  const n = c.count;
  const start = (Math.random() * n) | 0;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (i !== skip && c.usable(i)) return i;
  }
  return -1;
}

/** Power of two choices: two random usable endpoints, the one with the lower score wins. */
export function powerOfTwo(c: Candidates, score: (i: number) => number): number {
  const a = randomUsable(c, -1);
  if (a === -1) return -1;
  const b = randomUsable(c, a);
  if (b === -1) return a;
  return score(b) < score(a) ? b : a;
}
