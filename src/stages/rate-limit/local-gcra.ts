import { BUSY, FULL, MOVING, type SlotTable } from '../../shared/slot-table.js';

/**
 * GCRA (the generic cell rate algorithm: a token bucket kept as one number) on the shared table.
 * A key's value is its theoretical arrival time (TAT), in nanoseconds of the process-wide monotonic
 * clock (process.hrtime), which every worker thread reads alike. A request at `now` is allowed when
 * max(TAT, now) − now ≤ tolerance, and then moves TAT one interval on. interval = per / rate;
 * tolerance = (burst − 1) × interval, so a fresh key gets `burst` requests at once, then `rate` per `per`.
 * A key whose TAT has passed has a full bucket: its slot may be given to another key.
 */
export interface GcraParams {
  readonly interval: bigint;
  readonly tolerance: bigint;
}

/** take() results that are not a debt or a wait: the table could not answer. */
export const STORE_FULL = Number.NEGATIVE_INFINITY;
export const STORE_BUSY = Number.NaN;

export class LocalGcra {
  /** The slot of the last allowed take(), for giveBack(). */
  slot = -1;

  constructor(
    private readonly table: SlotTable,
    readonly params: GcraParams,
  ) {}

  /**
   * One request for key `fp`. Returns > 0 when allowed: the key's debt afterwards, in ns (how far its
   * TAT is ahead of now); < 0 when denied: minus the ns to wait; STORE_FULL or STORE_BUSY otherwise.
   */
  take(fp: bigint, home: number, now: bigint): number {
    const table = this.table;
    const { interval, tolerance } = this.params;
    for (let round = 0; round < 8; round++) {
      let s = table.find(fp, home);
      if (s === BUSY) return STORE_BUSY;
      if (s === -1) {
        s = table.claim(fp, home, now + interval, now);
        if (s === FULL) return STORE_FULL;
        if (s === BUSY) return STORE_BUSY;
        if (table.claimedNew) {
          this.slot = s;
          return Number(interval);
        }
      }
      const v = table.value(s);
      if (v === MOVING) continue;
      const tat = v > now ? v : now;
      if (tat - now > tolerance) {
        if (!table.owns(s, fp)) continue; // v was another key's
        return -Number(tat - tolerance - now);
      }
      const next = tat + interval;
      if (!table.swap(s, v, next)) continue;
      if (!table.owns(s, fp)) {
        table.add(s, -interval);
        continue;
      }
      this.slot = s;
      return Number(next - now);
    }
    return STORE_BUSY;
  }

  /** Undo the last allowed take() (a later limit denied the request: it must consume nothing). */
  giveBack(slot: number): void {
    this.table.add(slot, -this.params.interval);
  }
}
