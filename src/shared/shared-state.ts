import { randomInt } from 'node:crypto';
import { createEndpointTable } from './endpoint-health.js';
import { createUpstreamTable } from './upstream-table.js';

/**
 * Memory every worker thread shares, created once by the primary for the life of the process (it
 * survives reloads, so budgets and health do too). Passed to workers in workerData; SharedArrayBuffers
 * are shared, not copied.
 */
export interface SharedState {
  /** Endpoint health: active-check verdicts (primary) and passive ejections (workers); shared/endpoint-health.ts. */
  readonly endpointTable: SharedArrayBuffer;
  /** Per-upstream breaker, retry budget and in-flight count; shared/upstream-table.ts. */
  readonly upstreamTable: SharedArrayBuffer;
  /** What stages asked for (StageFactory.tables), by stage kind and table name. */
  readonly stageTables: Readonly<Record<string, Readonly<Record<string, SharedArrayBuffer>>>>;
  /** Seeds key hashing, so outsiders cannot choose keys that share slots or fingerprints. */
  readonly secret: number;
}

/** `stageTableBytes`: by stage kind and table name, the size of each table in bytes. */
export function createSharedState(stageTableBytes: Readonly<Record<string, Readonly<Record<string, number>>>>): SharedState {
  const stageTables: Record<string, Record<string, SharedArrayBuffer>> = {};
  for (const [kind, tables] of Object.entries(stageTableBytes)) {
    stageTables[kind] = Object.fromEntries(Object.entries(tables).map(([name, bytes]) => [name, new SharedArrayBuffer(bytes)]));
  }
  return {
    endpointTable: createEndpointTable(),
    upstreamTable: createUpstreamTable(),
    stageTables,
    secret: randomInt(0, 2 ** 32 - 1) | 0,
  };
}
