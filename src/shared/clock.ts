import { performance } from 'node:perf_hooks';

/**
 * Milliseconds on a clock every thread agrees on, as a wrapping int32 so it fits an Int32Array word
 * that Atomics can update. Compare two readings only by their difference (`after(a, b)`): that is
 * right for spans under 24 days, far beyond any ejection or open-circuit time.
 */
export function nowMs(): number {
  return msAt(performance.now());
}

/** The same clock at `t`, a reading of performance.now() already taken (one clock read serves both). */
export function msAt(t: number): number {
  return (performance.timeOrigin + t) | 0;
}

/** True when time `a` is later than time `b`. */
export function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
