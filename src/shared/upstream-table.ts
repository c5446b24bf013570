import { after } from './clock.js';
import { BUCKETS, WINDOW_WORDS, windowAdd, windowClear, windowSum } from './rolling-window.js';

/**
 * Per-upstream state every worker shares (one row of int32 words per upstream in a SharedArrayBuffer):
 * requests in flight (max_requests), the circuit breaker, and the retry budget's window. Rows are
 * assigned by upstream name in the primary and survive reloads.
 */
export const UPSTREAM_ROWS = 1024;
const IN_FLIGHT = 0;
const BREAKER = 1;
const OPEN_UNTIL = 2;
const PROBES_LEFT = 3;
const PROBES_OK = 4;
const BREAKER_WINDOW = 8;
const BUDGET_WINDOW = BREAKER_WINDOW + WINDOW_WORDS;
const WORDS = BUDGET_WINDOW + WINDOW_WORDS;
const BUDGET_WINDOW_MS = 10_000;
const COUNT_BATCH = 64;

export const CLOSED = 0;
export const OPEN = 1;
export const HALF_OPEN = 2;
export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** What the breaker says about a new request. */
export const ADMIT = 0;
export const ADMIT_PROBE = 1;
export const REJECT = 2;

export function createUpstreamTable(): SharedArrayBuffer {
  return new SharedArrayBuffer(UPSTREAM_ROWS * WORDS * 4);
}

/** An upstream's circuit breaker settings (circuit_breaker in config). */
export interface BreakerPolicy {
  readonly failureRatio: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly openMs: number;
  readonly halfOpenRequests: number;
}

export class UpstreamTable {
  private readonly w: Int32Array;
  private readonly sums = new Int32Array(2);
  /**
   * This thread's requests not yet added to the shared budget window, per row: added 64 at a time (or
   * when the second changes, or before a retry reads the window) instead of one shared write each.
   * Kept here, per worker, not per config generation, so frequent publishes lose nothing.
   */
  private readonly pending = new Int32Array(UPSTREAM_ROWS);
  private readonly pendingSince = new Int32Array(UPSTREAM_ROWS);
  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
  }

  // ── max_requests ──
  /** Take an in-flight place; false (and nothing taken) when `max` are in flight. */
  acquire(row: number, max: number): boolean {
    const at = row * WORDS + IN_FLIGHT;
    if (Atomics.add(this.w, at, 1) < max) return true;
    Atomics.sub(this.w, at, 1);
    return false;
  }

  /** Never below 0: a request that outlived its row's reuse (see endpoint-rows.ts) must not lift the new owner's limit. */
  release(row: number): void {
    const at = row * WORDS + IN_FLIGHT;
    if (Atomics.sub(this.w, at, 1) <= 0) Atomics.add(this.w, at, 1);
  }

  inFlight(row: number): number {
    return Atomics.load(this.w, row * WORDS + IN_FLIGHT);
  }

  // ── circuit breaker ──
  breakerState(row: number): number {
    return Atomics.load(this.w, row * WORDS + BREAKER);
  }

  /** ADMIT, ADMIT_PROBE (this request is one of the half-open probes) or REJECT. */
  admit(row: number, now: number, plan: BreakerPolicy): number {
    const b = row * WORDS;
    const w = this.w;
    const state = Atomics.load(w, b + BREAKER);
    if (state === CLOSED) return ADMIT;
    if (state === OPEN) {
      if (after(Atomics.load(w, b + OPEN_UNTIL), now)) return REJECT;
      // open_ms is over: the worker that moves the breaker to half-open takes the first probe.
      if (Atomics.compareExchange(w, b + BREAKER, OPEN, HALF_OPEN) !== OPEN) return REJECT;
      Atomics.store(w, b + PROBES_OK, 0);
      Atomics.store(w, b + PROBES_LEFT, plan.halfOpenRequests - 1);
      return ADMIT_PROBE;
    }
    if (Atomics.sub(w, b + PROBES_LEFT, 1) > 0) return ADMIT_PROBE;
    Atomics.add(w, b + PROBES_LEFT, 1);
    return REJECT;
  }

  /** A probe ended without an outcome (client gone, no endpoint tried): let another request probe. */
  returnProbe(row: number): void {
    Atomics.add(this.w, row * WORDS + PROBES_LEFT, 1);
  }

  /**
   * The outcome of one try. Returns the state this call moved the breaker to (OPEN or CLOSED), or -1
   * when it changed nothing, so exactly one worker logs each transition.
   */
  record(row: number, now: number, plan: BreakerPolicy, failed: boolean, probe: boolean): number {
    const b = row * WORDS;
    const w = this.w;
    if (probe) {
      if (failed) return this.trip(row, now, plan, HALF_OPEN);
      if (Atomics.add(w, b + PROBES_OK, 1) + 1 < plan.halfOpenRequests) return -1;
      if (Atomics.compareExchange(w, b + BREAKER, HALF_OPEN, CLOSED) !== HALF_OPEN) return -1;
      windowClear(w, b + BREAKER_WINDOW);
      return CLOSED;
    }
    if (Atomics.load(w, b + BREAKER) !== CLOSED) return -1;
    const bucketMs = Math.max(1, Math.floor(plan.windowMs / BUCKETS));
    windowAdd(w, b + BREAKER_WINDOW, bucketMs, now, 1, failed ? 1 : 0);
    if (!failed) return -1;
    windowSum(w, b + BREAKER_WINDOW, bucketMs, now, this.sums);
    const [total, failures] = this.sums;
    if (total < plan.minRequests || failures < plan.failureRatio * total) return -1;
    return this.trip(row, now, plan, CLOSED);
  }

  private trip(row: number, now: number, plan: BreakerPolicy, from: number): number {
    const b = row * WORDS;
    Atomics.store(this.w, b + OPEN_UNTIL, (now + plan.openMs) | 0);
    Atomics.store(this.w, b + PROBES_LEFT, 0);
    if (Atomics.compareExchange(this.w, b + BREAKER, from, OPEN) !== from) return -1;
    windowClear(this.w, b + BREAKER_WINDOW);
    return OPEN;
  }

  // ── retry budget ──
  countRequest(row: number, now: number): void {
    const bucket = Math.floor(now / (BUDGET_WINDOW_MS / BUCKETS)) | 0;
    if (this.pending[row] > 0 && this.pendingSince[row] !== bucket) this.flush(row, now);
    if (this.pending[row] === 0) this.pendingSince[row] = bucket;
    if (++this.pending[row] >= COUNT_BATCH) this.flush(row, now);
  }

  private flush(row: number, now: number): void {
    windowAdd(this.w, row * WORDS + BUDGET_WINDOW, BUDGET_WINDOW_MS / BUCKETS, now, this.pending[row], 0);
    this.pending[row] = 0;
  }

  /** Take one retry from the budget if ratio × requests + minPerS × window allows it. */
  takeRetry(row: number, now: number, ratio: number, minPerS: number): boolean {
    const base = row * WORDS + BUDGET_WINDOW;
    if (this.pending[row] > 0) this.flush(row, now);
    windowSum(this.w, base, BUDGET_WINDOW_MS / BUCKETS, now, this.sums);
    const [requests, retries] = this.sums;
    if (retries >= ratio * requests + minPerS * (BUDGET_WINDOW_MS / 1000)) return false;
    windowAdd(this.w, base, BUDGET_WINDOW_MS / BUCKETS, now, 0, 1);
    return true;
  }

  /** Called by the primary every few seconds for rows in use: an open circuit whose time is over keeps an
   * OPEN_UNTIL of "now", so it never ages past the int32 clock's 24-day horizon and looks current again. */
  sweep(row: number, now: number): void {
    const b = row * WORDS;
    const until = Atomics.load(this.w, b + OPEN_UNTIL);
    // A worker reopening the circuit meanwhile wrote a new time: the compare-exchange then leaves it alone.
    if (Atomics.load(this.w, b + BREAKER) === OPEN && !after(until, now)) Atomics.compareExchange(this.w, b + OPEN_UNTIL, until, now);
  }

  reset(row: number): void {
    this.w.fill(0, row * WORDS, (row + 1) * WORDS);
  }
}
