/**
 * A fixed-size, lock-free hash table in a SharedArrayBuffer, created once by the primary and shared
 * by every worker thread. A slot is two BigInt64 words: [key fingerprint, value]. The value's meaning
 * belongs to the caller (a GCRA theoretical arrival time, or an in-flight count); this file only
 * finds a key's slot, or claims one for it.
 *
 * The rules that keep it exact without locks:
 * - A key lives in the first WINDOW slots from its home slot. A fingerprint word, once set, is never
 *   cleared, so a key is never stored past an empty slot: the first empty slot ends a search.
 * - A new key takes the first free slot: an empty one (CAS on the fingerprint word), or one whose
 *   value says its owner has nothing left to remember (a bucket that refilled, a count at 0). Taking
 *   a used slot is a CAS of its value to MOVING, which fails if the owner touched it since we looked;
 *   then the new fingerprint and the taker's first value are stored, and MOVING ends.
 * - Callers update a value by CAS from what they read, then re-check the fingerprint (see `owns`): a
 *   slot taken over in between is noticed and the update is undone and retried.
 * - Nothing is ever found in a full window: the caller must decide (never fail open silently).
 */
export const WINDOW = 16;
export const MOVING = -1n;
const EMPTY = 0n;
/** Returned by claim() when every slot of the window holds a live key. */
export const FULL = -1;
/** Returned by claim() when the window kept changing under us (another thread mid-claim). */
export const BUSY = -2;
const SPINS = 64;

export const BYTES_PER_SLOT = 16;

export function createSlotTable(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(slotTableBytes(slots));
}

/** The memory a table of `slots` keys takes (rounded up as slotCount does). */
export function slotTableBytes(slots: number): number {
  return slotCount(slots) * BYTES_PER_SLOT;
}

/** Rounded up to a power of two, at least one window. */
export function slotCount(requested: number): number {
  let n = WINDOW;
  while (n < requested) n *= 2;
  return n;
}

export class SlotTable {
  readonly words: BigInt64Array;
  readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.words = new BigInt64Array(sab);
    this.mask = (this.words.length >> 1) - 1;
  }

  get slots(): number {
    return this.mask + 1;
  }

  /** True while `slot` still belongs to `fp` (call after a successful value CAS). */
  owns(slot: number, fp: bigint): boolean {
    return Atomics.load(this.words, slot << 1) === fp;
  }

  value(slot: number): bigint {
    return Atomics.load(this.words, (slot << 1) + 1);
  }

  /** CAS on the value word; true when it held `expected`. */
  swap(slot: number, expected: bigint, next: bigint): boolean {
    return Atomics.compareExchange(this.words, (slot << 1) + 1, expected, next) === expected;
  }

  add(slot: number, delta: bigint): void {
    Atomics.add(this.words, (slot << 1) + 1, delta);
  }

  /**
   * The slot holding `fp`, or -1 when it has none (yet). A slot being handed over to `fp` by another
   * thread is waited for, so two threads never give one key two slots.
   */
  find(fp: bigint, home: number): number {
    const words = this.words;
    for (let spin = 0; spin < SPINS; spin++) {
      let moving = false;
      for (let i = 0; i < WINDOW; i++) {
        const s = (home + i) & this.mask;
        const f = Atomics.load(words, s << 1);
        if (f === EMPTY) break;
        if (f === fp) {
          if (Atomics.load(words, (s << 1) + 1) !== MOVING) return s;
          moving = true;
          break;
        }
      }
      if (!moving) return -1;
    }
    return BUSY;
  }

  /**
   * Give `fp` the first free slot of its window (empty, or holding a value ≤ reusableAtOrBelow: an
   * owner with nothing left to remember), with `first` as its value (the caller's first update). Returns the slot, FULL or BUSY. The caller found no slot for fp just
   * before; if another thread claimed one meanwhile, that one is returned instead with nothing
   * written (the caller then updates it as usual): check `claimedNew`.
   */
  claim(fp: bigint, home: number, first: bigint, reusableAtOrBelow: bigint): number {
    const words = this.words;
    for (let spin = 0; spin < SPINS; spin++) {
      let moving = false;
      let empty = false;
      let s = -1;
      let v = EMPTY;
      for (let i = 0; i < WINDOW; i++) {
        const at = (home + i) & this.mask;
        const f = Atomics.load(words, at << 1);
        v = Atomics.load(words, (at << 1) + 1);
        if (f === fp) {
          this.claimedNew = false;
          if (v !== MOVING) return at;
          moving = true;
          break;
        }
        if (f === EMPTY) {
          s = at;
          empty = true;
          break;
        }
        if (v === MOVING) {
          moving = true;
          break;
        }
        if (v <= reusableAtOrBelow) {
          s = at;
          break;
        }
      }
      if (moving) continue;
      if (s === -1) return FULL;
      if (empty) {
        // A never-used slot: the fingerprint CAS is the claim. Until our value lands, another thread
        // with the same key may already update it (then we retry and find it), or take it as reusable
        // (then we retry elsewhere): both leave every request counted once.
        if (Atomics.compareExchange(words, s << 1, EMPTY, fp) !== EMPTY) continue;
        if (!this.swap(s, EMPTY, first)) continue;
        if (!this.owns(s, fp)) {
          this.add(s, -first);
          continue;
        } // taken over while its value was 0
      } else {
        if (Atomics.compareExchange(words, (s << 1) + 1, v, MOVING) !== v) continue;
        Atomics.store(words, s << 1, fp);
        Atomics.store(words, (s << 1) + 1, first);
      }
      this.claimedNew = true;
      return s;
    }
    return BUSY;
  }

  /** Set by claim(): true when it stored `first` in a new slot, false when it found fp's slot. */
  claimedNew = false;
}
