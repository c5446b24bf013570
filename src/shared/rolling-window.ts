/**
 * Two counters (a, b) summed over a rolling window, kept in BUCKETS int32 triples [bucket number,
 * a, b] of a shared Int32Array so every worker adds to the same window. A bucket is recycled by the
 * first writer of a new period (compare-exchange on its number); adds racing with that recycle may
 * be lost, so sums are approximate by a few counts, which ratios and budgets tolerate.
 */
export const BUCKETS = 10;
export const WINDOW_WORDS = BUCKETS * 3;

export function windowAdd(w: Int32Array, base: number, bucketMs: number, now: number, a: number, b: number): void {
  const n = Math.floor(now / bucketMs) | 0;
  const at = base + (((n % BUCKETS) + BUCKETS) % BUCKETS) * 3;
  const seen = Atomics.load(w, at);
  if (seen !== n && Atomics.compareExchange(w, at, seen, n) === seen) {
    Atomics.store(w, at + 1, 0);
    Atomics.store(w, at + 2, 0);
  }
  if (a !== 0) Atomics.add(w, at + 1, a);
  if (b !== 0) Atomics.add(w, at + 2, b);
}

/** Sums of a and b over the buckets of the last BUCKETS periods; `out` is reused by the caller. */
export function windowSum(w: Int32Array, base: number, bucketMs: number, now: number, out: Int32Array): void {
  const n = Math.floor(now / bucketMs) | 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < BUCKETS; i++) {
    const at = base + i * 3;
    const age = (n - Atomics.load(w, at)) | 0;
    if (age >= 0 && age < BUCKETS) {
      a += Atomics.load(w, at + 1);
      b += Atomics.load(w, at + 2);
    }
  }
  out[0] = a;
  out[1] = b;
}

export function windowClear(w: Int32Array, base: number): void {
  w.fill(0, base, base + WINDOW_WORDS);
}
