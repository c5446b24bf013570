import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, type FleetEndpoint, load, startEndpoint } from '../helpers/fleet.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';

// The circuit breaker and max_requests, shared by 2 workers through the SharedArrayBuffer.
let a: FleetEndpoint;
let slow: FleetEndpoint;
let gw: TestGateway;

before(async () => {
  a = await startEndpoint('a');
  slow = await startEndpoint('slow');
  slow.mode = { delayMs: 400 };
  gw = await startGateway(`
upstreams:
  app:
    endpoints: [ { url: "${a.origin}" } ]
    health: { passive: { consecutive_failures: 0 } }
    circuit_breaker: { failure_ratio: 0.5, min_requests: 10, window_ms: 10000, open_ms: 700, half_open_requests: 2 }
  limited:
    endpoints: [ { url: "${slow.origin}" } ]
    max_requests: 2
routes:
  - { name: app, match: { prefix: /app }, upstream: app }
  - name: app-fallback
    match: { prefix: /fallback }
    upstream: app
    fallback: { status: 200, body: '{"items":[]}', headers: { content-type: application/json } }
  - { name: limited, match: { prefix: /limited }, upstream: limited }
`);
});

after(async () => {
  await gw.stop();
  await a.stop();
  await slow.stop();
});

const circuit = async () =>
  ((await (await fetch(`http://127.0.0.1:${gw.adminPort}/upstreams`)).json()) as any).upstreams.find((u: any) => u.name === 'app').circuit;

test('closed → open after the failure ratio over min_requests; open answers at once with no upstream traffic', async () => {
  a.mode = { status: 500 };
  const r = await load(gw.url('/app'), 30, 2);
  const fromUpstream = r.statuses.get(500) ?? 0;
  assert.ok(fromUpstream >= 10 && fromUpstream <= 14, `${fromUpstream} requests reached the failing upstream before the circuit opened`);
  assert.equal(r.statuses.get(503), 30 - fromUpstream);
  const opened = await gw.waitForLog((l) => l.msg === 'circuit opened');
  assert.equal(opened.upstream, 'app');
  assert.equal(await circuit(), 'open');

  const hits = a.hits;
  const refused = await request(gw.url('/app'));
  assert.equal(refused.status, 503);
  assert.equal(json(refused).error.code, 'SLUICE_ERR_CIRCUIT_OPEN');
  const fb = await request(gw.url('/fallback'));
  assert.equal(fb.status, 200);
  assert.equal(fb.body, '{"items":[]}');
  assert.equal(a.hits, hits, 'an open circuit let requests through');
});

test('half-open: a failed probe opens the circuit again; successful probes close it', async () => {
  await new Promise((r) => setTimeout(r, 750)); // open_ms passes
  const hits = a.hits;
  assert.equal((await request(gw.url('/app'))).status, 500); // the probe reached the still-failing upstream
  assert.equal(a.hits, hits + 1);
  assert.equal(await circuit(), 'open');
  assert.equal(json(await request(gw.url('/app'))).error.code, 'SLUICE_ERR_CIRCUIT_OPEN');

  a.mode = 'ok';
  await new Promise((r) => setTimeout(r, 750));
  assert.equal((await request(gw.url('/app'))).status, 200);
  assert.equal(await circuit(), 'half_open', 'one probe of half_open_requests: 2 must not close it yet');
  assert.equal((await request(gw.url('/app'))).status, 200);
  await gw.waitForLog((l) => l.msg === 'circuit closed' && l.upstream === 'app');
  assert.equal(await circuit(), 'closed');
  const r = await load(gw.url('/app'), 50, 4);
  assert.equal(r.statuses.get(200), 50);
});

test('max_requests: beyond the limit (all workers together) → 503 SLUICE_ERR_UPSTREAM_OVERLOADED at once', async () => {
  const replies = await Promise.all(Array.from({ length: 6 }, () => request(gw.url('/limited'))));
  const ok = replies.filter((r) => r.status === 200).length;
  const overloaded = replies.filter((r) => r.status === 503 && json(r).error.code === 'SLUICE_ERR_UPSTREAM_OVERLOADED').length;
  assert.equal(ok, 2);
  assert.equal(overloaded, 4);
  // Places are given back when requests end.
  await eventually(async () => (await request(gw.url('/limited'))).status === 200, 'a place free again', 3000);
});
