/**
 * Latencies of one route or upstream in one worker, in two views kept side by side:
 *
 * - Prometheus buckets (BUCKET_BOUNDS_S): exact counts per `le`, what a scraper sums and rates.
 * - Fine buckets, log-linear on microseconds (8 per power of two, so a bucket is at most 12.5 % wide,
 *   as HdrHistogram does with fewer digits): what p50/p90/p99/p999 are read from, and what the
 *   dashboard's distribution shows. 232 of them cover 1 µs to 35 minutes.
 *
 * Recording is a few integer operations and three increments: no allocation, no search. Snapshots
 * from every worker are added bucket by bucket in the primary (mergeHistogram), since counts add.
 */

/** Upper bounds of the Prometheus buckets, in seconds (+Inf is implicit). Documented in docs/observability.md. */
export const BUCKET_BOUNDS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BOUNDS_US = BUCKET_BOUNDS_S.map((s) => s * 1e6);

/** Sub-buckets per power of two (a power of two itself). */
const SUB = 8;
const SUB_BITS = 3;
/** Latencies are clamped here (2^31 − 1 µs, about 35 minutes). */
const MAX_US = 0x7fffffff;
export const FINE_BUCKETS = fineIndex(MAX_US) + 1;

/** The fine bucket of a whole number of microseconds: exact below 8 µs, then 8 per power of two. */
function fineIndex(us: number): number {
  if (us < SUB) return us;
  const e = 31 - Math.clz32(us);
  return (e - SUB_BITS) * SUB + (us >>> (e - SUB_BITS));
}

/** The lowest microsecond value of fine bucket i (its upper edge is fineLower(i + 1)). */
export function fineLower(i: number): number {
  if (i < SUB) return i;
  const e = Math.floor(i / SUB) + SUB_BITS - 1;
  return ((i % SUB) + SUB) * 2 ** (e - SUB_BITS);
}

/** For each fine bucket, the first Prometheus bucket its lowest value falls in: a record checks one bound more at most. */
const FIRST_BUCKET = Uint8Array.from({ length: FINE_BUCKETS }, (_, i) => {
  const low = fineLower(i);
  let b = 0;
  while (b < BOUNDS_US.length && low > BOUNDS_US[b]) b++;
  return b;
});

export class LatencyHistogram {
  /** Non-cumulative counts per Prometheus bucket; the last is +Inf. */
  readonly buckets = new Float64Array(BUCKET_BOUNDS_S.length + 1);
  readonly fine = new Float64Array(FINE_BUCKETS);
  count = 0;
  sumMs = 0;

  record(ms: number): void {
    const us = ms * 1000;
    const whole = us >= MAX_US ? MAX_US : us > 0 ? Math.floor(us) : 0;
    const f = fineIndex(whole);
    this.fine[f]++;
    let b = FIRST_BUCKET[f];
    if (b < BOUNDS_US.length && us > BOUNDS_US[b]) b++;
    this.buckets[b]++;
    this.count++;
    this.sumMs += ms;
  }

  /**
   * Plain data for postMessage, null while nothing was recorded. The fine counts go sparse, as
   * [index, count] pairs: latencies crowd into a few dozen buckets, and a short array of numbers
   * clones faster than a typed array per histogram.
   */
  snapshot(): HistogramSnapshot | null {
    if (this.count === 0) return null;
    const fine: number[] = [];
    const f = this.fine;
    for (let i = 0; i < f.length; i++) if (f[i] !== 0) fine.push(i, f[i]);
    return { buckets: Array.from(this.buckets), fine, count: this.count, sumMs: this.sumMs };
  }
}

/** One worker's histogram as it crosses to the primary. */
export interface HistogramSnapshot {
  /** Non-cumulative counts per Prometheus bucket, +Inf last. */
  readonly buckets: ArrayLike<number>;
  /** Sparse [fine index, count, ...] pairs, or (once merged) every fine bucket's count. */
  readonly fine: ArrayLike<number>;
  readonly count: number;
  readonly sumMs: number;
}

/** Histograms added up in the primary: dense, so adding one more is a loop, not a search. */
export interface MergedHistogram extends HistogramSnapshot {
  readonly buckets: Float64Array;
  readonly fine: Float64Array;
}

/** a + b as a new merged histogram; neither is changed (a worker's last answer may be read again). */
export function mergeHistogram(a: HistogramSnapshot, b: HistogramSnapshot): MergedHistogram {
  const m = { buckets: new Float64Array(BUCKET_BOUNDS_S.length + 1), fine: new Float64Array(FINE_BUCKETS), count: 0, sumMs: 0 };
  addInto(m, a);
  addInto(m, b);
  return m;
}

function addInto(m: { buckets: Float64Array; fine: Float64Array; count: number; sumMs: number }, h: HistogramSnapshot): void {
  for (let i = 0; i < m.buckets.length; i++) m.buckets[i] += h.buckets[i];
  const f = h.fine;
  if (f instanceof Float64Array) for (let i = 0; i < f.length; i++) m.fine[i] += f[i];
  else for (let i = 0; i < f.length; i += 2) m.fine[f[i]] += f[i + 1];
  m.count += h.count;
  m.sumMs += h.sumMs;
}

/**
 * The q-quantile (0 < q <= 1) in milliseconds, interpolated inside its fine bucket: within 12.5 % of
 * the true value. NaN when nothing was recorded.
 */
export function quantileMs(h: HistogramSnapshot, q: number): number {
  if (h.count === 0) return Number.NaN;
  const d = h.fine instanceof Float64Array ? h.fine : mergeHistogram(h, EMPTY).fine;
  const rank = q * h.count;
  let seen = 0;
  let last = 0;
  for (let i = 0; i < d.length; i++) {
    const n = d[i];
    if (n === 0) continue;
    last = i;
    if (seen + n >= rank) {
      const low = fineLower(i);
      return (low + ((rank - seen) / n) * (fineLower(i + 1) - low)) / 1000;
    }
    seen += n;
  }
  return fineLower(last + 1) / 1000;
}

const EMPTY: HistogramSnapshot = { buckets: new Float64Array(BUCKET_BOUNDS_S.length + 1), fine: [], count: 0, sumMs: 0 };
