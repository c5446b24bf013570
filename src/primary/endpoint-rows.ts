import type { CompiledPlan, EndpointPlan, UpstreamPlan } from '../compile/plan.js';
import { GatewayError } from '../errors/gateway-error.js';
import { ENDPOINT_ROWS, type EndpointHealth } from '../upstream/endpoint-health.js';
import { UPSTREAM_ROWS, type UpstreamTable } from '../upstream/upstream-table.js';

/**
 * A freed row waits this long before reuse, so requests still running on an old plan (long downloads)
 * do not write into a new endpoint's row; past it, a late write can only skew one outcome (and the
 * in-flight count never goes below 0).
 */
const QUARANTINE_MS = 600_000;

/**
 * Hands out rows of the shared health and upstream tables. An endpoint keeps its row (and so its
 * health) for as long as some plan has it: across reloads and discovery changes. Runs in the primary.
 */
export class EndpointRows {
  private readonly endpointRows = new RowAllocator(ENDPOINT_ROWS, 'endpoints');
  private readonly upstreamRows = new RowAllocator(UPSTREAM_ROWS, 'upstreams');

  constructor(private readonly health: EndpointHealth, private readonly table: UpstreamTable) {}

  /** Clears expired ejections and open-until times of every row in `plan` (see the tables' sweep()). */
  sweep(plan: CompiledPlan, now: number): void {
    for (const u of plan.upstreams) {
      this.table.sweep(u.slot, now);
      for (const e of u.endpoints) this.health.sweep(e.slot, now, u.claimRow, u.passive.maxEjectMs);
    }
  }

  /**
   * The plan workers get: discovered endpoint lists filled in and every upstream and endpoint given
   * its row. Throws SLUICE_ERR_CONFIG_INVALID when the tables are full.
   */
  bind(plan: CompiledPlan, discovered: ReadonlyMap<string, readonly EndpointPlan[]>): CompiledPlan {
    const usedEndpoints = new Set<string>();
    const usedUpstreams = new Set<string>();
    const upstreams = plan.upstreams.map((u): UpstreamPlan => {
      usedUpstreams.add(u.name);
      const list = u.discovery.kind === 'static' ? u.endpoints : discovered.get(u.name) ?? [];
      const endpoints = list.map((e) => {
        const key = `${u.name}|${e.origin}`;
        usedEndpoints.add(key);
        return { ...e, slot: this.endpointRows.rowOf(key, (row) => this.health.reset(row)) };
      });
      const claimKey = `${u.name}|#claim`;
      usedEndpoints.add(claimKey);
      return {
        ...u, endpoints,
        slot: this.upstreamRows.rowOf(u.name, (row) => this.table.reset(row)),
        claimRow: this.endpointRows.rowOf(claimKey, (row) => this.health.reset(row)),
      };
    });
    this.endpointRows.releaseAllBut(usedEndpoints);
    this.upstreamRows.releaseAllBut(usedUpstreams);
    return { ...plan, upstreams };
  }
}

class RowAllocator {
  private readonly rows = new Map<string, number>();
  private readonly freed: { row: number; at: number }[] = [];
  private next = 0;

  constructor(private readonly capacity: number, private readonly what: string) {}

  rowOf(key: string, onNew: (row: number) => void): number {
    const known = this.rows.get(key);
    if (known !== undefined) return known;
    let row: number;
    if (this.freed.length > 0 && Date.now() - this.freed[0].at >= QUARANTINE_MS) row = this.freed.shift()!.row;
    else if (this.next < this.capacity) row = this.next++;
    else throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', `more than ${this.capacity} ${this.what} in use (shared table full)`);
    onNew(row);
    this.rows.set(key, row);
    return row;
  }

  releaseAllBut(used: ReadonlySet<string>): void {
    for (const [key, row] of this.rows) {
      if (used.has(key)) continue;
      this.rows.delete(key);
      this.freed.push({ row, at: Date.now() });
    }
  }
}
