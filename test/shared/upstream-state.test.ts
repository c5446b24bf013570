import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createEndpointTable, EndpointHealth } from '../../src/shared/endpoint-health.js';
import { ADMIT, ADMIT_PROBE, CLOSED, createUpstreamTable, OPEN, REJECT, UpstreamTable } from '../../src/shared/upstream-table.js';

/**
 * The shared endpoint and upstream tables under real contention (4 threads, started together at one
 * frozen instant), and their rules with the clock under the test's control.
 */
const HEALTH_URL = new URL('../../src/shared/endpoint-health.js', import.meta.url).href;
const TABLE_URL = new URL('../../src/shared/upstream-table.js', import.meta.url).href;
const PASSIVE = { consecutiveFailures: 5, ejectMs: 1000, maxEjectMs: 2500, maxEjectedPercent: 100 };
const BREAKER = { failureRatio: 0.5, minRequests: 10, windowMs: 10_000, openMs: 1000, halfOpenRequests: 3 };

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { EndpointHealth } = await import(${JSON.stringify(HEALTH_URL)});
  const { UpstreamTable } = await import(${JSON.stringify(TABLE_URL)});
  const { endpoints, upstreams, go, passive, breaker, now } = workerData;
  const health = new EndpointHealth(endpoints);
  const table = new UpstreamTable(upstreams);
  let ejections = 0, opened = 0, admitted = 0;
  Atomics.wait(new Int32Array(go), 0, 0);
  for (let i = 0; i < 2000; i++) {
    if (health.recordFailure(0, now, passive, [0, 1], 2) > 0) ejections++;
    if (table.record(0, now, breaker, true, false) === 1) opened++;
    if (table.acquire(1, 7)) admitted++;
    // Two endpoints of one upstream failing at once, max_ejected_percent 50: only one may go.
    health.recordFailure(3 + (i % 2), now, { ...passive, maxEjectedPercent: 50 }, [3, 4], 5);
  }
  parentPort.postMessage({ ejections, opened, admitted });
})();
`;

test('4 threads failing at once: one ejection, one breaker transition, max_ejected_percent and max_requests hold exactly', async () => {
  const endpoints = createEndpointTable();
  const upstreams = createUpstreamTable();
  const go = new SharedArrayBuffer(4);
  const workerData = { endpoints, upstreams, go, passive: PASSIVE, breaker: BREAKER, now: 5000 };
  const workers = Array.from({ length: 4 }, () => new Worker(WORKER, { eval: true, workerData }));
  const results = workers.map(
    (w) =>
      new Promise<any>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  await new Promise((r) => setTimeout(r, 200));
  Atomics.store(new Int32Array(go), 0, 1);
  Atomics.notify(new Int32Array(go), 0);
  const all = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  const sum = (k: string) => all.reduce((s, r) => s + r[k], 0);
  assert.equal(sum('ejections'), 1, 'an endpoint was ejected more than once at the same instant');
  assert.equal(sum('opened'), 1, 'more than one thread opened the circuit');
  assert.equal(sum('admitted'), 7, 'max_requests let more (or fewer) requests in than its limit');
  assert.equal(new UpstreamTable(upstreams).inFlight(1), 7);
  const health = new EndpointHealth(endpoints);
  assert.equal([3, 4].filter((row) => health.isEjected(row, 5000)).length, 1, 'max_ejected_percent: 50 let both endpoints go');
});

test('ejection: length grows by eject_ms on each repeat, capped at max_eject_ms; a success after it ends readmits', () => {
  const h = new EndpointHealth(createEndpointTable());
  let now = 1_000_000;
  const lengths: number[] = [];
  for (let round = 0; round < 4; round++) {
    let ejected = 0;
    for (let i = 0; i < PASSIVE.consecutiveFailures && ejected === 0; i++) ejected = h.recordFailure(3, now, PASSIVE, [3], 9);
    lengths.push(ejected);
    assert.equal(h.isHealthy(3, now + ejected - 1), false);
    now += ejected + 1;
    assert.equal(h.isHealthy(3, now), true);
  }
  assert.deepEqual(lengths, [1000, 2000, 2500, 2500]);
  h.recordSuccess(3, PASSIVE, 9, () => now);
  h.recordSuccess(3, PASSIVE, 9, () => now + 3000); // max_eject_ms without an ejection: the count is forgotten
  for (let i = 0; i < 4; i++) assert.equal(h.recordFailure(3, now + 3001, PASSIVE, [3], 9), 0);
  assert.equal(h.recordFailure(3, now + 3001, PASSIVE, [3], 9), 1000);
});

test('breaker: open rejects until open_ms, then exactly half_open_requests probes; they all succeed → closed', () => {
  const t = new UpstreamTable(createUpstreamTable());
  let now = 50_000;
  for (let i = 0; i < 9; i++) assert.equal(t.record(2, now, BREAKER, i % 2 === 0, false), -1); // 9 tries: below min_requests
  assert.equal(t.record(2, now, BREAKER, true, false), OPEN);
  assert.equal(t.admit(2, now + 999, BREAKER), REJECT);
  now += 1000;
  const verdicts = Array.from({ length: 5 }, () => t.admit(2, now, BREAKER));
  assert.deepEqual(verdicts, [ADMIT_PROBE, ADMIT_PROBE, ADMIT_PROBE, REJECT, REJECT]);
  t.returnProbe(2); // a probe whose client left: another request may probe
  assert.equal(t.admit(2, now, BREAKER), ADMIT_PROBE);
  assert.equal(t.record(2, now, BREAKER, false, true), -1);
  assert.equal(t.record(2, now, BREAKER, false, true), -1);
  assert.equal(t.record(2, now, BREAKER, false, true), CLOSED);
  assert.equal(t.admit(2, now, BREAKER), ADMIT);
});

test('retry budget: ratio × requests + min_per_s × 10 s, all callers together', () => {
  const t = new UpstreamTable(createUpstreamTable());
  const now = 90_000;
  for (let i = 0; i < 100; i++) t.countRequest(4, now);
  let allowed = 0;
  for (let i = 0; i < 100; i++) if (t.takeRetry(4, now, 0.2, 1)) allowed++;
  assert.equal(allowed, 30); // 0.2 × 100 + 1/s × 10 s
});

test('the primary sweep clears ended ejections and open-until times before the int32 clock could wrap them', () => {
  const h = new EndpointHealth(createEndpointTable());
  const t = new UpstreamTable(createUpstreamTable());
  const start = 2_000_000_000; // near the int32 edge
  let ejected = 0;
  for (let i = 0; i < PASSIVE.consecutiveFailures; i++) ejected = h.recordFailure(6, start, PASSIVE, [6], 7);
  assert.equal(ejected, 1000);
  for (let i = 0; i < 9; i++) t.record(3, start, BREAKER, true, false);
  assert.equal(t.record(3, start, BREAKER, true, false), OPEN);
  // Sweeps keep running (every 5 s; here once a day) while no request comes for 25 days, beyond the
  // 24.8-day horizon of the wrapping clock: then nothing looks current again.
  let now = start;
  for (let day = 0; day <= 25; day++, now = (now + 86_400_000) | 0) {
    h.sweep(6, now, 7, PASSIVE.maxEjectMs);
    t.sweep(3, now);
  }
  assert.equal(h.isEjected(6, now), false);
  assert.equal(t.admit(3, now, BREAKER), ADMIT_PROBE);
  // Without the sweep the same silence would reopen the old times.
  const unswept = new UpstreamTable(createUpstreamTable());
  for (let i = 0; i < 10; i++) unswept.record(3, start, BREAKER, true, false);
  assert.equal(unswept.admit(3, (start + 25 * 86_400_000) | 0, BREAKER), REJECT);
});
