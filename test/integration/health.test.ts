import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually, type FleetEndpoint, load, startEndpoint } from '../helpers/fleet.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';

// Endpoint health through the real data plane: passive ejection shared by 2 workers, active checks
// run by the primary, and what a client sees when nothing is healthy.
const started: { stop(): Promise<unknown> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function fleet(...names: string[]): Promise<FleetEndpoint[]> {
  const eps = await Promise.all(names.map((n) => startEndpoint(n)));
  started.push(...eps);
  return eps;
}
async function gateway(yaml: string): Promise<TestGateway> {
  const gw = await startGateway(yaml);
  started.push(gw);
  return gw;
}
async function upstreamState(gw: TestGateway, name: string): Promise<any> {
  const body = (await (await fetch(`http://127.0.0.1:${gw.adminPort}/upstreams`)).json()) as any;
  return body.upstreams.find((u: any) => u.name === name);
}

test('passive: consecutive 5xx eject an endpoint for eject_ms (all workers stop using it), then it gets traffic again', async () => {
  const [a, b] = await fleet('a', 'b');
  const gw = await gateway(`
upstreams:
  app:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]
    health: { passive: { consecutive_failures: 3, eject_ms: 1500 } }
routes: [ { name: app, match: { prefix: / }, upstream: app } ]
`);
  a.mode = { status: 503 };
  const first = await load(gw.url('/'), 40, 4);
  // At most consecutive_failures answers (plus a few racing on other connections) reach the client as 503.
  assert.ok((first.statuses.get(503) ?? 0) <= 6, `503s: ${first.statuses.get(503)}`);
  const line = await gw.waitForLog((l) => l.msg === 'endpoint ejected after consecutive failures');
  assert.equal(line.endpoint, a.origin);
  assert.equal(line.eject_ms, 1500);
  assert.equal((await upstreamState(gw, 'app')).endpoints[0].ejected, true);

  const hitsBefore = a.hits;
  const during = await load(gw.url('/'), 100, 4);
  assert.equal(during.statuses.get(200), 100);
  assert.equal(a.hits, hitsBefore, 'an ejected endpoint got requests');

  a.mode = 'ok';
  await eventually(async () => !(await upstreamState(gw, 'app')).endpoints[0].ejected, 'ejection over', 5000);
  const back = await load(gw.url('/'), 100, 4);
  assert.equal(back.statuses.get(200), 100);
  assert.ok((back.byEndpoint.get('a') ?? 0) > 30, `a got ${back.byEndpoint.get('a')} of 100 after its ejection ended`);
});

test('passive: never more than max_ejected_percent of endpoints are ejected; with nothing healthy → fast 503 or the fallback', async () => {
  const [a, b] = await fleet('a', 'b');
  const gw = await gateway(`
upstreams:
  app:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]
    health: { passive: { consecutive_failures: 2, eject_ms: 60000, max_ejected_percent: 50 } }
  solo:
    endpoints: [ { url: "${a.origin}" } ]
    health: { passive: { consecutive_failures: 1, eject_ms: 60000, max_ejected_percent: 100 } }
routes:
  - { name: app, match: { prefix: /app }, upstream: app }
  - name: solo
    match: { prefix: /solo }
    upstream: solo
    fallback: { status: 200, body: "cached answer", headers: { x-fallback: "yes" } }
  - { name: solo-plain, match: { prefix: /plain }, upstream: solo }
`);
  a.mode = { status: 500 };
  b.mode = { status: 500 };
  await load(gw.url('/app'), 60, 2);
  const state = await upstreamState(gw, 'app');
  assert.equal(state.endpoints.filter((e: any) => e.ejected).length, 1, 'both endpoints ejected despite max_ejected_percent: 50');

  assert.equal((await request(gw.url('/solo'))).status, 500); // ejects solo's only endpoint
  const hits = a.hits;
  const fb = await request(gw.url('/solo'));
  assert.equal(fb.status, 200);
  assert.equal(fb.body, 'cached answer');
  assert.equal(fb.headers['x-fallback'], 'yes');
  const plain = await request(gw.url('/plain'));
  assert.equal(plain.status, 503);
  assert.equal(json(plain).error.code, 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
  assert.equal(a.hits, hits, 'requests reached an ejected endpoint');
});

test('active: the primary probes each endpoint once per interval (not once per worker), marks it down and up again', async () => {
  const [a, b] = await fleet('a', 'b');
  const gw = await gateway(`
upstreams:
  app:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]
    health:
      active: { path: /healthz, interval_ms: 100, timeout_ms: 100, healthy: 2, unhealthy: 2 }
      passive: { consecutive_failures: 0 }
routes: [ { name: app, match: { prefix: / }, upstream: app } ]
`);
  const t0 = Date.now();
  const h0 = a.healthHits;
  await new Promise((r) => setTimeout(r, 1000));
  const probes = a.healthHits - h0;
  const expected = (Date.now() - t0) / 100;
  assert.ok(
    probes >= expected * 0.5 && probes <= expected * 1.3,
    `${probes} probes in ${Date.now() - t0} ms at a 100 ms interval (2 workers must not double them)`,
  );

  a.healthStatus = 503;
  const down = await gw.waitForLog((l) => l.msg === 'endpoint unhealthy (active check)');
  assert.equal(down.endpoint, a.origin);
  assert.equal(down.problem, 'status 503');
  const hits = a.hits;
  const r = await load(gw.url('/'), 100, 4);
  assert.equal(r.statuses.get(200), 100);
  assert.equal(a.hits, hits, 'an endpoint marked down by active checks got requests');

  a.healthStatus = 200;
  await gw.waitForLog((l) => l.msg === 'endpoint healthy (active check)' && l.endpoint === a.origin);
  const back = await load(gw.url('/'), 100, 4);
  assert.ok((back.byEndpoint.get('a') ?? 0) > 30, `a got ${back.byEndpoint.get('a')} of 100 once healthy again`);
});

test('active: with every endpoint down, panic_threshold fails open to all of them; without it → 503', async () => {
  const [a, b] = await fleet('a', 'b');
  const health = (panic: number) => `
    health:
      active: { path: /healthz, interval_ms: 100, timeout_ms: 100, healthy: 1, unhealthy: 1 }
      panic_threshold: ${panic}`;
  const gw = await gateway(`
upstreams:
  panics:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]${health(50)}
  strict:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]${health(0)}
routes:
  - { name: panics, match: { prefix: /panics }, upstream: panics }
  - { name: strict, match: { prefix: /strict }, upstream: strict }
`);
  a.healthStatus = 500;
  b.healthStatus = 500;
  await eventually(
    async () =>
      (await upstreamState(gw, 'strict')).endpoints.every((e: any) => e.active_down) &&
      (await upstreamState(gw, 'panics')).endpoints.every((e: any) => e.active_down),
    'all endpoints marked down',
  );
  const strict = await request(gw.url('/strict'));
  assert.equal(strict.status, 503);
  assert.equal(json(strict).error.code, 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
  const open = await load(gw.url('/panics'), 40, 2);
  assert.equal(open.statuses.get(200), 40);
  assert.ok((open.byEndpoint.get('a') ?? 0) > 5 && (open.byEndpoint.get('b') ?? 0) > 5, 'panic mode spreads over all endpoints');
});

test('a try cut short by the route timeout counts as a failure: a hanging endpoint gets ejected', async () => {
  const [a, b] = await fleet('a', 'b');
  a.mode = 'hang';
  const gw = await gateway(`
upstreams:
  app:
    balance: weighted
    endpoints: [ { url: "${a.origin}", weight: 100 }, { url: "${b.origin}", weight: 1 } ]
    health: { passive: { consecutive_failures: 2, eject_ms: 60000 } }
routes: [ { name: app, match: { prefix: / }, upstream: app, timeout_ms: 200 } ]
`);
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push((await request(gw.url('/'))).status);
  assert.ok(seen.includes(504), `statuses ${seen}`);
  assert.equal((await upstreamState(gw, 'app')).endpoints[0].ejected, true);
  assert.deepEqual(seen.slice(-2), [200, 200], 'requests kept going to the hanging endpoint');
});

test('passive: responses that break mid-body count as failures and eject the endpoint', async () => {
  const [a, b] = await fleet('a', 'b');
  a.mode = 'cut-mid-body';
  const gw = await gateway(`
upstreams:
  app:
    endpoints: [ { url: "${a.origin}" }, { url: "${b.origin}" } ]
    health: { passive: { consecutive_failures: 3, eject_ms: 60000 } }
routes: [ { name: app, match: { prefix: / }, upstream: app } ]
`);
  for (let i = 0; i < 8; i++) await request(gw.url('/')).catch(() => 'cut');
  await gw.waitForLog((l) => l.msg === 'endpoint ejected after consecutive failures' && l.endpoint === a.origin);
  const r = await load(gw.url('/'), 20, 2);
  assert.deepEqual([...r.byEndpoint], [['b', 20]]);
});
