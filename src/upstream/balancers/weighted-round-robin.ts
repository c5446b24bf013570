import type { Balancer, Candidates } from './balancer.js';

/**
 * Smooth weighted round robin, as nginx does it: every pick adds each endpoint's weight to its
 * current score and takes the highest, which then gives back the total. Weights 5:1:1 give
 * a a b a c a a, not a a a a a b c: no bursts to the heavy endpoint.
 */
export class WeightedRoundRobin implements Balancer {
  private readonly current: Float64Array;
  constructor(count: number) {
    this.current = new Float64Array(count);
  }

  pick(c: Candidates): number {
    const cur = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < c.count; i++) {
      if (!c.usable(i)) continue;
      const w = c.weight(i);
      cur[i] += w;
      total += w;
      if (best === -1 || cur[i] > cur[best]) best = i;
    }
    if (best !== -1) cur[best] -= total;
    return best;
  }
}
