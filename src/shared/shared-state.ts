import { randomInt } from 'node:crypto';
import { createSlotTable } from './slot-table.js';
import { createEndpointTable } from './endpoint-health.js';
import { createUpstreamTable } from './upstream-table.js';

/**
 * Memory every worker thread shares, created once by the primary for the life of the process (it
 * survives reloads, so budgets do too). Passed to workers in workerData; SharedArrayBuffers are
 * shared, not copied.
 */
export interface SharedState {
  /** GCRA theoretical arrival times, one slot per rate-limit key (stages/rate-limit). */
  readonly rateTable: SharedArrayBuffer;
  /** In-flight counts, one slot per concurrency-limit key. */
  readonly inFlightTable: SharedArrayBuffer;
  /** Endpoint health: active-check verdicts (primary) and passive ejections (workers); shared/endpoint-health.ts. */
  readonly endpointTable: SharedArrayBuffer;
  /** Per-upstream breaker, retry budget and in-flight count; shared/upstream-table.ts. */
  readonly upstreamTable: SharedArrayBuffer;
  /** Seeds key hashing, so outsiders cannot choose keys that share slots or fingerprints. */
  readonly secret: number;
}

export function createSharedState(tableSlots: number): SharedState {
  return {
    rateTable: createSlotTable(tableSlots),
    inFlightTable: createSlotTable(tableSlots),
    endpointTable: createEndpointTable(),
    upstreamTable: createUpstreamTable(),
    secret: randomInt(0, 2 ** 32 - 1) | 0,
  };
}
