import type { EndpointPlan } from '../compile/plan.js';

/**
 * Round robin over an upstream's endpoints, skipping endpoints this worker saw refuse a connection
 * in the last DOWN_MS. (A stop-gap for passive health; the balancing issue replaces it with shared
 * health state and real policies.)
 */
export const DOWN_MS = 2000;

export class RoundRobin {
  private next = 0;
  /** Per endpoint: time (ms, performance.now) until which it counts as down. */
  private readonly downUntil: Float64Array;

  constructor(readonly endpoints: readonly EndpointPlan[]) {
    this.downUntil = new Float64Array(endpoints.length);
  }

  /** Index of the endpoint to use, or -1 when every endpoint is down or already tried (bitmask). */
  pick(now: number, tried: number): number {
    const n = this.endpoints.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      if ((tried & (1 << i)) !== 0 || this.downUntil[i] > now) continue;
      this.next = (i + 1) % n;
      return i;
    }
    return -1;
  }

  markDown(i: number, now: number): void {
    this.downUntil[i] = now + DOWN_MS;
  }
}
