import type { Logger } from 'pino';
import type { CompiledPlan, EndpointPlan, UpstreamPlan } from '../compile/plan.js';
import { GatewayError } from '../errors/gateway-error.js';
import { ENDPOINT_ROWS, type EndpointHealth, FIRST_ENDPOINT_ROW } from '../shared/endpoint-health.js';
import { UPSTREAM_ROWS, type UpstreamTable } from '../shared/upstream-table.js';

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
  private readonly endpointRows = new RowAllocator(FIRST_ENDPOINT_ROW, ENDPOINT_ROWS, 'endpoints', 'skip');
  private readonly upstreamRows = new RowAllocator(0, UPSTREAM_ROWS, 'upstreams', 'throw');

  private warnedFull = false;

  constructor(
    private readonly health: EndpointHealth,
    private readonly table: UpstreamTable,
    private readonly log: Logger,
  ) {}

  /** Clears expired ejections and open-until times of every row in `plan` (see the tables' sweep()). */
  sweep(plan: CompiledPlan, now: number): void {
    for (const u of plan.upstreams) {
      this.table.sweep(u.row, now);
      for (const e of u.endpoints) this.health.sweep(e.row, now, u.row, u.passive.maxEjectMs);
    }
  }

  /**
   * The plan workers get: discovered endpoint lists filled in and every upstream and endpoint given
   * its row. Endpoints beyond the table's capacity are left out (logged); more upstreams than the
   * upstream table holds throw SLUICE_ERR_CONFIG_INVALID.
   */
  bind(plan: CompiledPlan, discovered: ReadonlyMap<string, readonly EndpointPlan[]>): CompiledPlan {
    const usedEndpoints = new Set<string>();
    const usedUpstreams = new Set<string>();
    const upstreams = plan.upstreams.map((u): UpstreamPlan => {
      usedUpstreams.add(u.name);
      const list = u.discovery.kind === 'static' ? u.endpoints : (discovered.get(u.name) ?? []);
      const endpoints = list
        .map((e) => {
          const key = `${u.name}|${e.origin}`;
          usedEndpoints.add(key);
          return { ...e, row: this.endpointRows.rowOf(key, (row) => this.health.reset(row)) };
        })
        .filter((e) => e.row !== FULL || this.tableFull(u.name, e.origin));
      // The upstream's claim word lives in the endpoint table's row of the same number.
      const row = this.upstreamRows.rowOf(u.name, (r) => {
        this.table.reset(r);
        this.health.reset(r);
      });
      return { ...u, endpoints, row };
    });
    this.endpointRows.releaseAllBut(usedEndpoints);
    this.upstreamRows.releaseAllBut(usedUpstreams);
    return { ...plan, upstreams };
  }

  private tableFull(upstream: string, endpoint: string): false {
    if (!this.warnedFull)
      this.log.error({ upstream, endpoint, rows: ENDPOINT_ROWS, code: 'SLUICE_ERR_DISCOVERY' }, 'endpoint table full: endpoints beyond it are left out');
    this.warnedFull = true;
    return false;
  }
}

const FULL = -1;

class RowAllocator {
  private readonly rows = new Map<string, number>();
  /** Freed rows by key, oldest first; a key that comes back within the quarantine gets its row (and history) back. */
  private readonly freed = new Map<string, { row: number; at: number }>();
  private next: number;

  constructor(
    private readonly first: number,
    private readonly capacity: number,
    private readonly what: string,
    private readonly whenFull: 'throw' | 'skip',
  ) {
    this.next = first;
  }

  /** The key's row, or FULL (when whenFull is skip). */
  rowOf(key: string, onNew: (row: number) => void): number {
    const known = this.rows.get(key) ?? this.freed.get(key)?.row;
    if (known !== undefined) {
      this.freed.delete(key);
      this.rows.set(key, known);
      return known;
    }
    let row: number;
    const [oldestKey, oldest] = this.freed.entries().next().value ?? [];
    if (oldest !== undefined && Date.now() - oldest.at >= QUARANTINE_MS) {
      row = oldest.row;
      this.freed.delete(oldestKey!);
    } else if (this.next < this.first + this.capacity) row = this.next++;
    else if (this.whenFull === 'skip') return FULL;
    else throw new GatewayError('SLUICE_ERR_CONFIG_INVALID', `more than ${this.capacity} ${this.what} in use (shared table full)`);
    onNew(row);
    this.rows.set(key, row);
    return row;
  }

  releaseAllBut(used: ReadonlySet<string>): void {
    for (const [key, row] of this.rows) {
      if (used.has(key)) continue;
      this.rows.delete(key);
      this.freed.set(key, { row, at: Date.now() });
    }
  }
}
