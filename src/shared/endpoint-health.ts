import { after, nowMs } from './clock.js';
import { UPSTREAM_ROWS } from './upstream-table.js';

/**
 * Health of every endpoint, one row of int32 words per endpoint in a SharedArrayBuffer: the primary
 * writes active-check results, every worker records passive outcomes, and every pick reads both.
 * Rows are assigned by the primary (primary/endpoint-rows.ts) and survive reloads.
 */
export const ENDPOINT_ROWS = 4096;
/**
 * Rows before the endpoints' hold one upstream each, for its CLAIM word only: row n belongs to the
 * upstream in row n of the upstream table.
 */
export const FIRST_ENDPOINT_ROW = UPSTREAM_ROWS;
const WORDS = 8;
/** 1 while the active checker says the endpoint is down. */
const ACTIVE_DOWN = 0;
/** 1 while ejected by passive detection (until EJECT_UNTIL). */
const EJECTED = 1;
const EJECT_UNTIL = 2;
const CONSECUTIVE_FAILURES = 3;
/** Ejections so far: the next one lasts one eject_ms longer. Forgotten after max_eject_ms without one. */
const EJECTIONS = 4;
/** Held (1) by the one thread changing ejections of the upstream whose claim row this is; others skip instead of waiting. */
const CLAIM = 5;

export function createEndpointTable(): SharedArrayBuffer {
  return new SharedArrayBuffer((FIRST_ENDPOINT_ROW + ENDPOINT_ROWS) * WORDS * 4);
}

/** An upstream's passive outlier detection settings (health.passive in config). */
export interface EjectionPolicy {
  /** Failures in a row that eject an endpoint; 0 = passive detection off. */
  readonly consecutiveFailures: number;
  readonly ejectMs: number;
  readonly maxEjectMs: number;
  readonly maxEjectedPercent: number;
}

export class EndpointHealth {
  private readonly w: Int32Array;
  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
  }

  /** Neither marked down by active checks nor ejected now. */
  isHealthy(row: number, now: number): boolean {
    const b = row * WORDS;
    const w = this.w;
    if (w[b + ACTIVE_DOWN] !== 0) return false;
    return w[b + EJECTED] === 0 || !after(Atomics.load(w, b + EJECT_UNTIL), now);
  }

  isActiveDown(row: number): boolean {
    return this.w[row * WORDS + ACTIVE_DOWN] !== 0;
  }

  isEjected(row: number, now: number): boolean {
    const b = row * WORDS;
    return this.w[b + EJECTED] !== 0 && after(Atomics.load(this.w, b + EJECT_UNTIL), now);
  }

  setActiveDown(row: number, down: boolean): void {
    Atomics.store(this.w, row * WORDS + ACTIVE_DOWN, down ? 1 : 0);
  }

  /**
   * A try got an answer below 500. Reads only, in the common case; an ejection that has ended (or its
   * count, max_eject_ms later) is cleared under the upstream's claim, as the sweep does. The clock is
   * read only then: an endpoint that was never ejected costs no clock read per request.
   */
  recordSuccess(row: number, passive: EjectionPolicy, claimRow: number, clock: () => number = nowMs): void {
    const b = row * WORDS;
    const w = this.w;
    if (w[b + CONSECUTIVE_FAILURES] !== 0) Atomics.store(w, b + CONSECUTIVE_FAILURES, 0);
    if (w[b + EJECTED] !== 0 || w[b + EJECTIONS] !== 0) this.sweep(row, clock(), claimRow, passive.maxEjectMs);
  }

  /**
   * A try failed (connect error, reset, timeout, 5xx). Returns the ejection length when this call
   * ejected the endpoint (exactly one worker wins), else 0. `peers` are the rows of the upstream's
   * endpoints in service (weight > 0), `claimRow` the row whose claim word guards the whole upstream,
   * so max_ejected_percent holds when several endpoints fail at once.
   */
  recordFailure(row: number, now: number, passive: EjectionPolicy, peers: readonly number[], claimRow: number): number {
    if (passive.consecutiveFailures === 0) return 0;
    const b = row * WORDS;
    const w = this.w;
    if (Atomics.add(w, b + CONSECUTIVE_FAILURES, 1) + 1 < passive.consecutiveFailures || this.isEjected(row, now)) return 0;
    // Whoever holds the claim decides; every write to EJECTED and EJECT_UNTIL happens under it.
    const c = claimRow * WORDS + CLAIM;
    if (Atomics.compareExchange(w, c, 0, 1) !== 0) return 0;
    try {
      if (
        this.isEjected(row, now) ||
        Atomics.load(w, b + CONSECUTIVE_FAILURES) < passive.consecutiveFailures ||
        !this.mayEject(peers, now, passive.maxEjectedPercent)
      )
        return 0;
      Atomics.store(w, b + CONSECUTIVE_FAILURES, 0);
      const times = Atomics.add(w, b + EJECTIONS, 1);
      const ms = Math.min(passive.ejectMs * (times + 1), passive.maxEjectMs);
      Atomics.store(w, b + EJECT_UNTIL, (now + ms) | 0);
      Atomics.store(w, b + EJECTED, 1);
      return ms;
    } finally {
      Atomics.store(w, c, 0);
    }
  }

  private mayEject(peers: readonly number[], now: number, maxPercent: number): boolean {
    let ejected = 1;
    for (const p of peers) if (this.isEjected(p, now)) ejected++;
    return ejected * 100 <= maxPercent * peers.length;
  }

  /**
   * An ejection that has ended is cleared and, max_eject_ms later, its count forgotten; a no-op read
   * otherwise. Also called by the primary every few seconds for rows in use, so no stored time ages
   * past the int32 clock's 24-day horizon and looks current again. Skips when the claim is taken: the
   * next call clears it.
   */
  sweep(row: number, now: number, claimRow: number, maxEjectMs: number): void {
    const b = row * WORDS;
    const w = this.w;
    if (w[b + EJECTED] === 0 && w[b + EJECTIONS] === 0) return;
    const until = Atomics.load(w, b + EJECT_UNTIL);
    const stale = (w[b + EJECTED] !== 0 && !after(until, now)) || (w[b + EJECTIONS] !== 0 && after(now, until + maxEjectMs));
    if (!stale) return;
    const c = claimRow * WORDS + CLAIM;
    if (Atomics.compareExchange(w, c, 0, 1) !== 0) return;
    if (Atomics.load(w, b + EJECT_UNTIL) === until) {
      if (!after(until, now)) Atomics.store(w, b + EJECTED, 0);
      if (after(now, until + maxEjectMs)) Atomics.store(w, b + EJECTIONS, 0);
    }
    Atomics.store(w, c, 0);
  }

  /** A row handed to a new endpoint starts healthy with no history. */
  reset(row: number): void {
    this.w.fill(0, row * WORDS, (row + 1) * WORDS);
  }
}
