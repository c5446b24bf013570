import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createSlotTable, SlotTable } from '../../src/shared/slot-table.js';
import { InFlight } from '../../src/stages/rate-limit/in-flight.js';
import { fingerprint, fingerprintWord } from '../../src/stages/rate-limit/limit-key.js';
import { LocalGcra, STORE_FULL } from '../../src/stages/rate-limit/local-gcra.js';

/**
 * The shared table under real contention: several worker threads take from the same keys at the
 * same frozen instant, so the exact answer is known (a fresh key allows `burst` requests at once).
 */
const GCRA_URL = new URL('../../src/stages/rate-limit/local-gcra.js', import.meta.url).href;
const TABLE_URL = new URL('../../src/shared/slot-table.js', import.meta.url).href;
const KEY_URL = new URL('../../src/stages/rate-limit/limit-key.js', import.meta.url).href;

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { LocalGcra } = await import(${JSON.stringify(GCRA_URL)});
  const { SlotTable } = await import(${JSON.stringify(TABLE_URL)});
  const { fingerprint, fingerprintWord } = await import(${JSON.stringify(KEY_URL)});
  const { sab, keys, tries, interval, tolerance, now, go } = workerData;
  const gcra = new LocalGcra(new SlotTable(sab), { interval, tolerance });
  const h = { hi: 0, lo: 0 };
  const allowed = new Array(keys).fill(0);
  Atomics.wait(new Int32Array(go), 0, 0); // start together
  for (let t = 0; t < tries; t++) {
    for (let k = 0; k < keys; k++) {
      fingerprint(7, 'client-' + k, h);
      if (gcra.take(fingerprintWord(h.hi, h.lo), h.lo, now) > 0) allowed[k]++;
    }
  }
  parentPort.postMessage(allowed);
})();
`;

async function hammer(opts: { slots: number; keys: number; tries: number; burst: number; threads: number }): Promise<number[]> {
  const sab = createSlotTable(opts.slots);
  const go = new SharedArrayBuffer(4);
  const interval = 1_000_000_000n; // 1 per second: nothing refills at a frozen instant
  const workerData = { sab, go, keys: opts.keys, tries: opts.tries, interval, tolerance: BigInt(opts.burst - 1) * interval, now: 10n ** 15n };
  const workers = Array.from({ length: opts.threads }, () => new Worker(WORKER, { eval: true, workerData }));
  const results = workers.map(
    (w) =>
      new Promise<number[]>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  await new Promise((r) => setTimeout(r, 200));
  Atomics.store(new Int32Array(go), 0, 1);
  Atomics.notify(new Int32Array(go), 0);
  const all = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return all.reduce((sum, a) => sum.map((v, i) => v + a[i]));
}

test('4 threads on one key at one instant allow exactly burst requests in all', async () => {
  const allowed = await hammer({ slots: 1024, keys: 1, tries: 5000, burst: 37, threads: 4 });
  assert.deepEqual(allowed, [37]);
});

test('300 keys crowded into a 512-slot table: every key gets exactly its own burst', async () => {
  const allowed = await hammer({ slots: 512, keys: 300, tries: 8, burst: 3, threads: 4 });
  assert.equal(allowed.length, 300);
  assert.deepEqual(
    allowed.filter((n) => n !== 3),
    [],
    'a key got more or less than its burst: keys shared a budget',
  );
});

test('a full window refuses new keys (never fails open), then reuses a slot once its bucket refilled', () => {
  const table = new SlotTable(createSlotTable(16));
  const gcra = new LocalGcra(table, { interval: 100n, tolerance: 0n });
  const h = { hi: 0, lo: 0 };
  const take = (key: string, now: bigint) => {
    fingerprint(1, key, h);
    return gcra.take(fingerprintWord(h.hi, h.lo), h.lo, now);
  };
  for (let k = 0; k < 16; k++) assert.ok(take(`k${k}`, 1000n) > 0);
  assert.equal(take('newcomer', 1000n), STORE_FULL);
  assert.ok(take('k3', 1000n) < 0, 'k3 is still limited');
  // 100 ns later every bucket is full again: their slots hold nothing worth keeping.
  assert.ok(take('newcomer', 1100n) > 0);
  assert.ok(take('newcomer', 1100n) < 0, 'the newcomer now has its own slot and budget');
});

test('in-flight counts: the limit holds, release frees, and a slot at 0 can go to another key', () => {
  const table = new SlotTable(createSlotTable(16));
  const limit = new InFlight(table, 2);
  const h = { hi: 0, lo: 0 };
  const acquire = (key: string) => {
    fingerprint(1, key, h);
    const r = limit.acquire(fingerprintWord(h.hi, h.lo), h.lo);
    return { r, slot: limit.slot };
  };
  const a = acquire('a');
  const b = acquire('a');
  assert.equal(a.r, 1);
  assert.equal(b.r, 1);
  assert.equal(acquire('a').r, 0);
  limit.release(a.slot);
  assert.equal(acquire('a').r, 1);
  for (let k = 0; k < 15; k++) assert.equal(acquire(`other${k}`).r, 1);
  assert.equal(acquire('one-too-many').r, STORE_FULL);
  // 'a' has two in flight: once both end, its slot holds 0 and may go to another key.
  limit.release(b.slot);
  limit.release(b.slot);
  assert.equal(acquire('one-too-many').r, 1);
});
