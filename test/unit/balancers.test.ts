import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointPlan } from '../../src/compile/plan.js';
import type { RequestCtx } from '../../src/pipeline/request-ctx.js';
import type { Candidates } from '../../src/upstream/balancers/balancer.js';
import { ConsistentHash } from '../../src/upstream/balancers/consistent-hash.js';
import { WeightedRoundRobin } from '../../src/upstream/balancers/weighted-round-robin.js';

const candidates = (weights: number[], down: number[] = []): Candidates => ({
  count: weights.length,
  usable: (i) => weights[i] > 0 && !down.includes(i),
  weight: (i) => weights[i],
  inFlight: () => 0,
});

test('smooth weighted round robin spreads the heavy endpoint out, as nginx does (5,1,1 → a a b a c a a)', () => {
  const b = new WeightedRoundRobin(3);
  const c = candidates([5, 1, 1]);
  const seq = Array.from({ length: 14 }, () => 'abc'[b.pick(c)]).join('');
  assert.equal(seq, 'aabacaaaabacaa');
});

test('smooth weighted round robin skips an unusable endpoint and keeps the others in proportion', () => {
  const b = new WeightedRoundRobin(3);
  const c = candidates([2, 1, 4], [2]);
  const counts = [0, 0, 0];
  for (let i = 0; i < 300; i++) counts[b.pick(c)]++;
  assert.deepEqual(counts, [200, 100, 0]);
});

test('consistent hash: keys of an unusable endpoint go to the next ones, the rest stay', () => {
  const endpoints: EndpointPlan[] = ['a', 'b', 'c', 'd'].map((h) => ({ origin: `http://${h}:80`, hostHeader: h, weight: 1, row: -1 }));
  const ring = new ConsistentHash(endpoints, { kind: 'header', name: 'x-user' });
  const ctx = (user: string) => ({ header: (n: string) => (n === 'x-user' ? user : undefined) }) as unknown as RequestCtx;
  const all = candidates([1, 1, 1, 1]);
  const withoutB = candidates([1, 1, 1, 1], [1]);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const k = ctx(`k${i}`);
    const first = ring.pick(all, k);
    counts[first]++;
    const second = ring.pick(withoutB, k);
    if (first !== 1) assert.equal(second, first);
    else assert.notEqual(second, 1);
  }
  for (const n of counts) assert.ok(n > 700 && n < 1300, `uneven ring: ${counts}`);
});
