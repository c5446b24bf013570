import type { Balancer, Candidates } from './balancer.js';

/** Each usable endpoint in turn; weights other than 0 (drained) are ignored. */
export class RoundRobin implements Balancer {
  private next = 0;

  pick(c: Candidates): number {
    const n = c.count;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      if (!c.usable(i)) continue;
      this.next = (i + 1) % n;
      return i;
    }
    return -1;
  }
}
