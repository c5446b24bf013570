import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { asSent, queriesOf, readDashboard } from '../helpers/grafana.js';
import { request } from '../helpers/http.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { skipWithout } from '../helpers/system-services.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

// A real Prometheus server scrapes sluice's admin listener (with the admin token) every second
// while real traffic goes through two worker threads; PromQL answers through its HTTP API. This is
// the proof that GET /metrics parses in Prometheus's own parser and means what the docs say.

const skip = skipWithout('prometheus');
const TOKEN = 'prometheus-scrape-token-0123456789';

let ok: TestUpstream;
let bad: TestUpstream;
let gw: TestGateway;
let prom: TestPrometheus;
const traffic = { stop: false, done: Promise.resolve() };

before(async () => {
  if (skip) return;
  ok = await startUpstream((req, res) => {
    req.resume();
    res.end('fine');
  });
  // Fails everything, its health check too: a 5xx route and an unhealthy endpoint.
  bad = await startUpstream((req, res) => {
    req.resume();
    res.writeHead(503);
    res.end('down');
  });
  gw = await startGateway(`
admin: { token: "${TOKEN}" }
log: { access: false }
upstreams:
  ok: { endpoints: [ { url: "${ok.origin}" } ] }
  bad:
    endpoints: [ { url: "${bad.origin}" } ]
    health: { active: { path: /healthz, interval_ms: 200, timeout_ms: 200, healthy: 1, unhealthy: 1 } }
    circuit_breaker: { min_requests: 5 }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: ok }
  - { name: bad, match: { prefix: /bad }, upstream: bad, retries: { attempts: 2, on: [connect_error] } }
  - name: limited
    match: { path: /limited }
    respond: { body: ok }
    rate_limit: [ { name: per-route, key: route, rate: 1, per: 1h, burst: 1 } ]
  - name: keyed
    match: { path: /keyed }
    respond: { body: ok }
    auth: { api_key: { keys: [ { id: team-a, hash: "sha256:${'0'.repeat(64)}" } ] } }
`);
  prom = await startPrometheus([{ job: 'sluice', target: `127.0.0.1:${gw.adminPort}`, token: TOKEN }]);
  // Traffic runs until the checks are done: rate() needs the counters to move between scrapes.
  traffic.done = (async () => {
    while (!traffic.stop) {
      await request(gw.url('/ok'));
      await request(gw.url('/bad'));
      await request(gw.url('/limited'));
      await request(gw.url('/keyed'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
});

after(async () => {
  traffic.stop = true;
  await traffic.done;
  await prom?.stop();
  await gw?.stop();
  await ok?.close();
  await bad?.close();
});

/** The single number an instant query answers, or null when it answers no series. */
async function scalar(expr: string): Promise<number | null> {
  const r = await prom.query(expr);
  assert.equal(r.status, 'success', `${expr}: ${r.error}`);
  const result = r.data.result as { value: [number, string] }[];
  assert.ok(result.length <= 1, `${expr}: one series expected, got ${JSON.stringify(result)}`);
  return result.length === 0 ? null : Number(result[0].value[1]);
}

/** Polls until `expr` answers a number that `holds`, within 20 s (Prometheus scrapes every second). */
async function eventually(expr: string, holds: (v: number) => boolean): Promise<number> {
  let last: number | null = null;
  await waitFor(
    async () => {
      last = await scalar(expr);
      await new Promise((r) => setTimeout(r, 200));
      return last !== null && holds(last);
    },
    `${expr} (last answer: ${last})`,
    20_000,
  );
  return last as unknown as number;
}

test('Prometheus scrapes GET /metrics with the admin token: the target is up, no scrape error', { skip }, async () => {
  await waitFor(
    async () => {
      const t = (await prom.targets()).find((x) => x.labels.job === 'sluice');
      return t !== undefined && t.health === 'up' && t.lastScrape !== '0001-01-01T00:00:00Z';
    },
    'the sluice target scraped and up',
    15_000,
  );
  const t = (await prom.targets()).find((x) => x.labels.job === 'sluice');
  assert.equal(t.health, 'up');
  assert.equal(t.lastError, '', 'Prometheus could not parse or fetch the scrape');
  assert.equal(await eventually('up{job="sluice"}', (v) => v === 1), 1);
  // What the token guards: without it the same endpoint refuses, so the scrape above used it.
  assert.equal((await request(`http://127.0.0.1:${gw.adminPort}/metrics`)).status, 401);
});

test('PromQL: the failing route has a 5xx rate, the working one none; a p99 from the histogram', { skip }, async () => {
  const bad5xx = await eventually('sum(rate(sluice_requests_total{route="bad",status_class="5xx"}[10s]))', (v) => v > 0);
  assert.ok(bad5xx > 0);
  const okRate = await eventually('sum(rate(sluice_requests_total{route="ok"}[10s]))', (v) => v > 0);
  assert.ok(okRate > 0);
  assert.equal(await scalar('sum(rate(sluice_requests_total{route="ok",status_class="5xx"}[10s])) or vector(0)'), 0);
  const p99 = await eventually('histogram_quantile(0.99, sum by (le) (rate(sluice_request_duration_seconds_bucket{route="ok"}[10s])))', (v) =>
    Number.isFinite(v),
  );
  assert.ok(p99 > 0 && p99 <= 10, `p99 ${p99} s is a finite positive number within the buckets`);
  assert.equal(await eventually(`sluice_endpoint_healthy{upstream="bad",endpoint="${bad.origin}"}`, (v) => v === 0), 0);
  assert.equal(await scalar(`sluice_endpoint_healthy{upstream="ok",endpoint="${ok.origin}"}`), 1);
  assert.equal(await scalar('sum(sluice_worker_up)'), 2, 'both workers answer the scrapes');
});

test('every Grafana dashboard query runs in Prometheus and each panel shows data', { skip }, async () => {
  // The traffic above touches every panel: routes ok and failing, a circuit, a rate limit, an auth refusal.
  await eventually('sum(rate(sluice_requests_total{route="bad"}[10s]))', (v) => v > 0);
  const shows = new Map<string, boolean>();
  for (const q of queriesOf(readDashboard())) {
    const expr = asSent(q.expr, 'sluice');
    const r = await prom.query(expr);
    assert.equal(r.status, 'success', `${q.panel}: ${expr}: ${r.error}`);
    shows.set(q.panel, shows.get(q.panel) === true || r.data.result.length > 0);
  }
  const blank = [...shows].filter(([, data]) => !data).map(([panel]) => panel);
  assert.deepEqual(blank, [], 'panels whose every query answers no series');
});
