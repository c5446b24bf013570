import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, beforeEach, test } from 'node:test';
import { type FleetEndpoint, load, startEndpoint } from '../helpers/fleet.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { refusedPort } from '../helpers/upstream.js';

// Retries only when safe, through 2 workers: conditions, idempotency, body replay, response already
// started, per-try and route timeouts, and the retry budget.
let bad: FleetEndpoint;
let good: FleetEndpoint;
let lone: FleetEndpoint;
let gw: TestGateway;

before(async () => {
  [bad, good, lone] = await Promise.all(['bad', 'good', 'lone'].map((n) => startEndpoint(n)));
  const dead = await refusedPort();
  const pair = `endpoints: [ { url: "${bad.origin}" }, { url: "${good.origin}" } ]
    health: { passive: { consecutive_failures: 0 } }`;
  gw = await startGateway(`
upstreams:
  pair:
    ${pair}
  dead-first:
    balance: weighted
    endpoints: [ { url: "http://127.0.0.1:${dead}", weight: 1000 }, { url: "${good.origin}", weight: 1 } ]
    health: { passive: { consecutive_failures: 0 } }
  lone:
    endpoints: [ { url: "${lone.origin}" } ]
    health: { passive: { consecutive_failures: 0 } }
    retry_budget: { ratio: 0, min_per_s: 1 }
routes:
  - name: on-503
    match: { prefix: /on-503 }
    upstream: pair
    retries: { attempts: 2, on: [503, reset, timeout], per_try_timeout_ms: 300, backoff: { base_ms: 0, max_ms: 0 } }
  - name: replay
    match: { prefix: /replay }
    upstream: pair
    retries: { attempts: 2, on: [reset], non_idempotent: true, backoff: { base_ms: 0, max_ms: 0 } }
  - { name: connect, match: { prefix: /connect }, upstream: dead-first, retries: { attempts: 3 } }
  - { name: streamed, match: { prefix: /streamed }, upstream: dead-first }
  - name: total
    match: { prefix: /total }
    upstream: pair
    timeout_ms: 500
    retries: { attempts: 5, on: [timeout], per_try_timeout_ms: 200 }
  - name: budget
    match: { prefix: /budget }
    upstream: lone
    retries: { attempts: 3, on: [503], backoff: { base_ms: 0, max_ms: 0 } }
`);
});

beforeEach(() => {
  bad.mode = 'ok';
  good.mode = 'ok';
});

after(async () => {
  await gw.stop();
  await Promise.all([bad, good, lone].map((e) => e.stop()));
});

test('a GET answered 503 is retried on the other endpoint; the access log counts the tries', async () => {
  bad.mode = { status: 503 };
  const r = await load(gw.url('/on-503'), 40, 4);
  assert.equal(r.statuses.get(200), 40);
  assert.ok(bad.hits > 5, 'the failing endpoint was never tried');
  const line = await gw.waitForLog((l) => l.route === 'on-503' && l.attempts === 2);
  assert.equal(line.status, 200);
  assert.equal(line.endpoint, good.origin);
});

test('a POST answered 503 is not retried: the client gets the upstream answer', async () => {
  bad.mode = { status: 503 };
  const seen = new Set<number>();
  for (let i = 0; i < 6; i++) seen.add((await request(gw.url('/on-503'), { method: 'POST', body: 'x' })).status);
  assert.ok(seen.has(503), 'no POST reached the failing endpoint, or it was retried');
});

test('connection refused is retried for any method, and the kept body is sent again intact', async () => {
  const body = 'p'.repeat(20_000);
  const before = good.bodies.length;
  const r = await request(gw.url('/connect'), { method: 'POST', body });
  assert.equal(r.status, 200);
  assert.equal(good.bodies.length, before + 1);
  assert.equal(good.bodies.at(-1), body);
  // Without a retries: block bodies are streamed, not kept: that POST cannot be sent twice.
  const streamed = await request(gw.url('/streamed'), { method: 'POST', body });
  assert.equal(streamed.status, 502);
  assert.equal(json(streamed).error.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  assert.equal((await request(gw.url('/streamed'))).status, 200, 'a GET without a body is retried by default');
});

test('non_idempotent: true replays a POST body after a reset, byte for byte', async () => {
  bad.mode = 'reset';
  const body = JSON.stringify({ order: 42, items: 'x'.repeat(5000) });
  for (let i = 0; i < 4; i++) {
    const r = await request(gw.url('/replay'), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
  }
  assert.ok(good.bodies.slice(-4).every((b) => b === body));
});

test('a GET whose response already started is not retried: the client sees the cut', async () => {
  bad.mode = 'cut-mid-body';
  good.mode = 'cut-mid-body';
  const hits = bad.hits + good.hits;
  await assert.rejects(request(gw.url('/on-503')));
  assert.equal(bad.hits + good.hits, hits + 1);
});

test('per_try_timeout_ms: a hanging endpoint is given up on and the other one answers', async () => {
  bad.mode = 'hang';
  for (let i = 0; i < 4; i++) assert.equal((await request(gw.url('/on-503'))).status, 200);
  await gw.waitForLog((l) => l.msg === 'upstream error' && l.code === 'SLUICE_ERR_UPSTREAM_TIMEOUT' && l.route === 'on-503');
});

test('timeout_ms covers every try: 504 SLUICE_ERR_ROUTE_TIMEOUT when all of them hang', async () => {
  bad.mode = 'hang';
  good.mode = 'hang';
  const r = await request(gw.url('/total'));
  assert.equal(r.status, 504);
  assert.equal(json(r).error.code, 'SLUICE_ERR_ROUTE_TIMEOUT');
});

test('the retry budget caps retries (ratio 0, 1/s over a 10 s window) so a failing upstream is not hammered', async () => {
  lone.mode = { status: 503 };
  const r = await load(gw.url('/budget'), 60, 2);
  assert.equal(r.statuses.get(503), 60);
  const retries = lone.hits - 60;
  assert.ok(retries >= 5 && retries <= 12, `${retries} retries; the budget allows about 10`);
  const line = await gw.waitForLog((l) => l.msg === 'retry budget exhausted; failed tries answered without retry');
  assert.equal(line.upstream, 'lone');
});

test('a retry after a reload that replaced every pool uses the new pools (no 502 from a closed one)', async () => {
  const slow503 = await startEndpoint('slow503');
  const fine = await startEndpoint('fine');
  slow503.mode = { status: 503 };
  const config = (connectMs: number) => `
timeouts: { connect_ms: ${connectMs} }
upstreams:
  app:
    balance: weighted
    endpoints: [ { url: "${slow503.origin}", weight: 100 }, { url: "${fine.origin}", weight: 1 } ]
    health: { passive: { consecutive_failures: 0 } }
routes:
  - name: app
    match: { prefix: / }
    upstream: app
    retries: { attempts: 2, on: [503], backoff: { base_ms: 400, max_ms: 400 } }
`;
  const own = await startGateway(config(2000));
  try {
    // Every try to slow503 fails; the retry waits up to 400 ms, during which the reload retires all pools.
    const pending = Array.from({ length: 6 }, () => request(own.url('/')));
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(own.configFile, config(1500));
    const res = await fetch(`http://127.0.0.1:${own.adminPort}/reload`, { method: 'POST' });
    assert.equal(res.status, 200);
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
  } finally {
    await own.stop();
    await slow503.stop();
    await fine.stop();
  }
});
