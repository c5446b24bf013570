import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUCKET_BOUNDS_S, FINE_BUCKETS, fineLower, LatencyHistogram, mergeHistogram, quantileMs } from '../../src/observe/latency-histogram.js';

test('fine buckets are contiguous and at most 12.5 % wide', () => {
  for (let i = 0; i < FINE_BUCKETS - 1; i++) {
    const low = fineLower(i);
    const high = fineLower(i + 1);
    assert.ok(high > low, `bucket ${i}`);
    if (low >= 8) assert.ok((high - low) / low <= 0.125 + 1e-12, `bucket ${i}: ${low}..${high}`);
  }
});

test('Prometheus buckets count exactly: a value on a bound is in that bound (le), just above it is not', () => {
  const h = new LatencyHistogram();
  for (const s of BUCKET_BOUNDS_S) {
    h.record(s * 1000);
    h.record(s * 1000 + 0.001);
  }
  h.record(60_000);
  BUCKET_BOUNDS_S.forEach((s, i) => assert.equal(h.buckets[i], i === 0 ? 1 : 2, `le=${s}`));
  assert.equal(h.buckets[BUCKET_BOUNDS_S.length], 2, '+Inf: the value above 10 s and 60 s');
  assert.equal(h.count, 2 * BUCKET_BOUNDS_S.length + 1);
});

test('quantiles are within 12.5 % of the exact ones, and merging adds counts', () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    // log-uniform from 10 µs to 10 s
    const ms = 0.01 * 10 ** (6 * random());
    (i % 2 === 0 ? a : b).record(ms);
    all.push(ms);
  }
  all.sort((x, y) => x - y);
  const merged = mergeHistogram(a.snapshot()!, b.snapshot()!);
  assert.equal(merged.count, 20_000);
  assert.equal(
    merged.buckets.reduce((x, y) => x + y),
    20_000,
  );
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = all[Math.ceil(q * all.length) - 1];
    const got = quantileMs(merged, q);
    assert.ok(Math.abs(got - exact) / exact <= 0.125, `q${q}: ${got} vs ${exact}`);
  }
  assert.equal(new LatencyHistogram().snapshot(), null, 'an empty histogram sends nothing');
});
