import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type FleetEndpoint, load, startEndpoint } from '../helpers/fleet.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';

// Distributions of every balancer, through the real data plane: 2 worker threads, real upstreams.
let eps: FleetEndpoint[];
let gw: TestGateway;

const config = (hashEndpoints: FleetEndpoint[]) => `
upstreams:
  rr: { endpoints: [ { url: "${eps[0].origin}" }, { url: "${eps[1].origin}" }, { url: "${eps[2].origin}" } ] }
  weighted:
    balance: weighted
    endpoints: [ { url: "${eps[0].origin}", weight: 3 }, { url: "${eps[1].origin}", weight: 1 }, { url: "${eps[2].origin}", weight: 0 } ]
  least:
    balance: least_outstanding
    endpoints: [ { url: "${eps[3].origin}" }, { url: "${eps[1].origin}" } ]
  latency:
    balance: latency
    endpoints: [ { url: "${eps[3].origin}" }, { url: "${eps[1].origin}" } ]
  hash:
    balance: hash
    hash_on: header:x-user
    endpoints: [ ${hashEndpoints.map((e) => `{ url: "${e.origin}" }`).join(', ')} ]
routes:
  - { name: rr, match: { prefix: /rr }, upstream: rr }
  - { name: weighted, match: { prefix: /weighted }, upstream: weighted }
  - { name: least, match: { prefix: /least }, upstream: least }
  - { name: latency, match: { prefix: /latency }, upstream: latency }
  - { name: hash, match: { prefix: /hash }, upstream: hash }
log: { access: false }
`;

before(async () => {
  eps = await Promise.all(['a', 'b', 'c', 'slow'].map((n) => startEndpoint(n)));
  eps[3].mode = { delayMs: 40 };
  gw = await startGateway(config([eps[0], eps[1], eps[2], eps[3]]));
});

after(async () => {
  await gw.stop();
  await Promise.all(eps.map((e) => e.stop()));
});

const share = (m: Map<string, number>, name: string, total: number) => (m.get(name) ?? 0) / total;

test('round_robin: 3,000 requests over 3 endpoints, each within 3% of a third', async () => {
  const r = await load(gw.url('/rr'), 3000, 16);
  assert.equal(r.statuses.get(200), 3000);
  for (const n of ['a', 'b', 'c']) assert.ok(Math.abs(share(r.byEndpoint, n, 3000) - 1 / 3) < 0.03, `${n}: ${r.byEndpoint.get(n)}`);
});

test('weighted 3:1 over 10,000 requests lands within 2% of 75/25; weight 0 gets nothing', async () => {
  const r = await load(gw.url('/weighted'), 10_000, 16);
  assert.equal(r.statuses.get(200), 10_000);
  assert.ok(Math.abs(share(r.byEndpoint, 'a', 10_000) - 0.75) < 0.02, `a: ${r.byEndpoint.get('a')}`);
  assert.ok(Math.abs(share(r.byEndpoint, 'b', 10_000) - 0.25) < 0.02, `b: ${r.byEndpoint.get('b')}`);
  assert.equal(r.byEndpoint.get('c'), undefined, 'the drained endpoint got requests');
});

test('least_outstanding and latency send most requests to the fast endpoint', async () => {
  for (const path of ['/least', '/latency']) {
    const r = await load(gw.url(path), 600, 16);
    assert.equal(r.statuses.get(200), 600);
    // The slow endpoint (40 ms) holds requests longer, so it has more in flight and costs more.
    assert.ok(share(r.byEndpoint, 'b', 600) > 0.8, `${path}: fast ${r.byEndpoint.get('b')}, slow ${r.byEndpoint.get('slow')}`);
  }
});

test('hash: a key sticks to one endpoint; removing one of 4 endpoints moves only its keys', async () => {
  const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const owner = async () => {
    const map = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 20) {
      const batch = keys.slice(i, i + 20);
      const replies = await Promise.all(batch.map((k) => request(gw.url('/hash'), { headers: { 'x-user': k } })));
      batch.forEach((k, j) => map.set(k, String(replies[j].headers['x-endpoint'])));
    }
    return map;
  };
  const before = await owner();
  const again = await owner();
  assert.deepEqual(again, before, 'the same key went to different endpoints (over fresh connections, both workers)');
  const removed = 'c';
  const held = [...before.values()].filter((e) => e === removed).length / keys.length;
  assert.ok(held > 0.12 && held < 0.38, `endpoint c held ${held} of the keys, expected about 1/4`);

  writeFileSync(gw.configFile, config([eps[0], eps[1], eps[3]]));
  const res = await fetch(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' });
  assert.equal(res.status, 200);
  const afterRemoval = await owner();
  let moved = 0;
  for (const [k, e] of before) {
    if (e === removed) assert.notEqual(afterRemoval.get(k), removed);
    else if (afterRemoval.get(k) !== e) moved++;
  }
  assert.equal(moved, 0, 'keys of the endpoints that stayed moved');
});
