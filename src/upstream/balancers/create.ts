import type { UpstreamPlan } from '../../compile/plan.js';
import type { Balancer } from './balancer.js';
import { ConsistentHash } from './consistent-hash.js';
import { LeastOutstanding } from './least-outstanding.js';
import { PeakEwma } from './peak-ewma.js';
import { RoundRobin } from './round-robin.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

export function createBalancer(u: UpstreamPlan): Balancer {
  const n = u.endpoints.length;
  switch (u.balance) {
    case 'round_robin':
      return new RoundRobin();
    case 'weighted':
      return new WeightedRoundRobin(n);
    case 'least_outstanding':
      return new LeastOutstanding();
    case 'latency':
      return new PeakEwma(n);
    case 'hash':
      return new ConsistentHash(u.endpoints, u.hashOn!);
  }
}
