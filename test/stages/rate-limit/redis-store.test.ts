import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { skipWithout } from '../../helpers/system-services.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

const skip = skipWithout('redis-server');

/** When the store cannot answer: a full local table, and a Redis shared by two gateways that dies. */
let up: TestUpstream;
let redis: TestRedis;
const gateways: TestGateway[] = [];

before(async () => {
  if (skip) return;
  up = await startUpstream((_req, res) => {
    res.writeHead(200);
    res.end('ok');
  });
  redis = await startRedis();
});
after(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await redis?.kill();
  await up?.close();
});

test('a full local table: on_store_error deny answers 503, allow lets the request through and logs it', { skip }, async () => {
  const gw = await startGateway(`
rate_limits: { table_slots: 16 }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: strict
    match: { prefix: /strict }
    upstream: up
    rate_limit: [ { name: c, key: "header:x-client", rate: 1, per: 1h, burst: 1, on_store_error: deny } ]
  - name: lenient
    match: { prefix: /lenient }
    upstream: up
    rate_limit: [ { name: c, key: "header:x-client", rate: 1, per: 1h, burst: 1 } ]
`);
  gateways.push(gw);
  // 16 live keys fill the whole table (one window).
  for (let c = 0; c < 16; c++) assert.equal((await request(gw.url('/strict'), { headers: { 'x-client': `c${c}` } })).status, 200);
  const refused = await request(gw.url('/strict'), { headers: { 'x-client': 'newcomer' } });
  assert.equal(refused.status, 503);
  assert.equal(json(refused).error.code, 'SLUICE_ERR_RATE_LIMIT_STORE');
  // Known keys are still limited exactly.
  assert.equal((await request(gw.url('/strict'), { headers: { 'x-client': 'c0' } })).status, 429);
  const allowed = await request(gw.url('/lenient'), { headers: { 'x-client': 'newcomer' } });
  assert.equal(allowed.status, 200);
  const warn = await gw.waitForLog((l) => l.code === 'SLUICE_ERR_RATE_LIMIT_STORE' && l.route === 'lenient');
  assert.equal(warn.then, 'allow');
});

test('scope: cluster — two gateway processes share one budget in Redis; when Redis dies, on_store_error decides at once', { skip }, async () => {
  const config = `
rate_limits: { redis: { url: "${redis.url}", timeout_ms: 200 } }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: shared
    match: { prefix: /shared }
    upstream: up
    rate_limit: [ { name: all, key: route, rate: 1, per: 1h, burst: 12, scope: cluster, on_store_error: deny } ]
  - name: open
    match: { prefix: /open }
    upstream: up
    rate_limit:
      - { name: backstop, key: route, rate: 1, per: 1h, burst: 3 }
      - { name: all, key: route, rate: 1, per: 1h, burst: 1000, scope: cluster, on_store_error: allow }
`;
  const a = await startGateway(config);
  const b = await startGateway(config);
  gateways.push(a, b);
  const statuses = await Promise.all(
    Array.from({ length: 40 }, (_, i) => request((i % 2 === 0 ? a : b).url('/shared')).then((r) => (r.status === 503 ? r.body : r.status))),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 12, `statuses: ${statuses.join(' ')}`);
  assert.equal(statuses.filter((s) => s === 429).length, 28, `statuses: ${statuses.join(' ')}`);
  const limited = await request(b.url('/shared'));
  assert.equal(limited.headers.ratelimit, '"all";r=0;t=3600');

  await redis.kill();
  for (const gw of [a, b]) {
    const t0 = Date.now();
    const denied = await request(gw.url('/shared'), { timeoutMs: 3000 });
    assert.equal(denied.status, 503);
    assert.equal(json(denied).error.code, 'SLUICE_ERR_RATE_LIMIT_STORE');
    // on_store_error: allow lets requests through, and the local backstop limit still protects the upstream.
    const open = [];
    for (let i = 0; i < 5; i++) open.push((await request(gw.url('/open'), { timeoutMs: 3000 })).status);
    assert.deepEqual(open, [200, 200, 200, 429, 429]);
    assert.ok(Date.now() - t0 < 3000, 'a dead Redis answered within its timeout each time, not a hang');
  }
  await a.waitForLog((l) => l.code === 'SLUICE_ERR_RATE_LIMIT_STORE' && l.msg.includes('Redis'));
});
