import { BUSY, FULL, MOVING, type SlotTable } from '../../shared/slot-table.js';
import { STORE_BUSY, STORE_FULL } from './local-gcra.js';

/**
 * Concurrency limits on the shared table: a key's value is how many of its requests are in flight
 * in all worker threads together. A slot at 0 remembers nothing and may be given to another key;
 * a slot above 0 cannot be, so release() always lands on the right key.
 */
export class InFlight {
  slot = -1;

  constructor(
    private readonly table: SlotTable,
    readonly max: number,
  ) {}

  /** 1 when admitted (call release(slot) once, when the exchange ends), 0 when at the limit, or a STORE_ result. */
  acquire(fp: bigint, home: number): number {
    const table = this.table;
    const max = BigInt(this.max);
    for (let round = 0; round < 8; round++) {
      let s = table.find(fp, home);
      if (s === BUSY) return STORE_BUSY;
      if (s === -1) {
        s = table.claim(fp, home, 1n, 0n);
        if (s === FULL) return STORE_FULL;
        if (s === BUSY) return STORE_BUSY;
        if (table.claimedNew) {
          this.slot = s;
          return 1;
        }
      }
      const v = table.value(s);
      if (v === MOVING) continue;
      if (v >= max) {
        if (!table.owns(s, fp)) continue;
        return 0;
      }
      if (!table.swap(s, v, v + 1n)) continue;
      if (!table.owns(s, fp)) {
        table.add(s, -1n);
        continue;
      }
      this.slot = s;
      return 1;
    }
    return STORE_BUSY;
  }

  release(slot: number): void {
    this.table.add(slot, -1n);
  }
}
