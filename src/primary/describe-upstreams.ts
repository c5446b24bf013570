import type { CompiledPlan } from '../compile/plan.js';
import { nowMs } from '../shared/clock.js';
import type { EndpointHealth } from '../shared/endpoint-health.js';
import { BREAKER_STATES, type UpstreamTable } from '../shared/upstream-table.js';

/** GET /upstreams: what every worker sees in the shared tables right now. */
export function describeUpstreams(plan: CompiledPlan, health: EndpointHealth, table: UpstreamTable): unknown {
  const now = nowMs();
  return {
    generation: plan.generation,
    upstreams: plan.upstreams.map((u) => ({
      name: u.name,
      balance: u.balance,
      discovery: u.discovery.kind,
      circuit: u.breaker === null ? null : BREAKER_STATES[table.breakerState(u.row)],
      in_flight: table.inFlight(u.row),
      endpoints: u.endpoints.map((e) => ({
        url: e.origin,
        weight: e.weight,
        healthy: health.isHealthy(e.row, now),
        active_down: health.isActiveDown(e.row),
        ejected: health.isEjected(e.row, now),
      })),
    })),
  };
}
