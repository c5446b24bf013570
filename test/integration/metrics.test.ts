import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { has, parseMetrics, type Sample, total } from '../helpers/metrics-text.js';
import { refusedPort, startUpstream, type TestUpstream } from '../helpers/upstream.js';

// GET /metrics through two real worker threads: every count is the sum of both workers' series.

const BODY = 'x'.repeat(1000);
let origin: TestUpstream;
let dead: number;

before(async () => {
  origin = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(BODY);
    });
  });
  dead = await refusedPort();
});
after(() => origin.close());

const config = (extra = '') => `
${extra}
upstreams:
  ok: { endpoints: [ { url: "${origin.origin}" } ] }
  dead: { endpoints: [ { url: "http://127.0.0.1:${dead}" } ] }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: ok }
  - { name: dead, match: { prefix: /dead }, upstream: dead, retries: { attempts: 2, on: [connect_error], backoff: { base_ms: 1, max_ms: 1 } } }
  - { name: hello, match: { path: /hello }, respond: { body: hi } }
  - name: limited
    match: { path: /limited }
    respond: { body: ok }
    rate_limit: [ { name: per-route, key: route, rate: 2, per: 1h, burst: 2 } ]
  - name: keyed
    match: { path: /keyed }
    respond: { body: ok }
    auth: { api_key: { keys: [ { id: team-a, hash: "sha256:${createHash('sha256').update('the-key-0123456789').digest('hex')}" } ] } }
`;

async function scrape(gw: TestGateway, accept?: string): Promise<{ text: string; type: string; samples: Sample[] }> {
  const r = await request(`http://127.0.0.1:${gw.adminPort}/metrics`, { headers: accept === undefined ? {} : { accept } });
  assert.equal(r.status, 200, r.body);
  return { text: r.body, type: String(r.headers['content-type']), samples: parseMetrics(r.body) };
}

test('requests, bytes, latency, tries and retries per route and upstream, merged across workers', async () => {
  const gw = await startGateway(config());
  try {
    const OK = 40;
    for (let i = 0; i < OK; i++) assert.equal((await request(gw.url(`/ok/${i}`), { method: 'POST', body: 'abcde' })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await request(gw.url('/dead'))).status, 502);
    for (let i = 0; i < 3; i++) assert.equal((await request(gw.url('/hello'))).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await request(gw.url('/nowhere'))).status, 404);

    const { text, type, samples } = await scrape(gw);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    assert.match(text, /# TYPE sluice_requests_total counter/);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'ok', status_class: '2xx', code: '' }), OK);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'dead', status_class: '5xx', code: 'SLUICE_ERR_UPSTREAM_CONNECT' }), 5);
    assert.equal(total(samples, 'sluice_requests_total', { route: '', status_class: '4xx', code: 'SLUICE_ERR_ROUTE_NOT_FOUND' }), 2);
    assert.equal(total(samples, 'sluice_local_replies_total', { route: 'hello', stage: 'respond' }), 3);
    assert.equal(total(samples, 'sluice_request_bytes_total', { route: 'ok' }), OK * 5);
    assert.equal(total(samples, 'sluice_response_bytes_total', { route: 'ok' }), OK * BODY.length);
    assert.equal(total(samples, 'sluice_requests_in_flight', { route: 'ok' }), 0);

    // The histogram: cumulative buckets ending at the count, and quantiles in the range it covers.
    assert.equal(total(samples, 'sluice_request_duration_seconds_count', { route: 'ok' }), OK);
    assert.equal(total(samples, 'sluice_request_duration_seconds_bucket', { route: 'ok', le: '+Inf' }), OK);
    const buckets = samples.filter((s) => s.name === 'sluice_request_duration_seconds_bucket' && s.labels.route === 'ok').map((s) => s.value);
    assert.deepEqual(
      [...buckets].sort((a, b) => a - b),
      buckets,
      'buckets are cumulative',
    );
    const p99 = total(samples, 'sluice_request_duration_percentile_seconds', { route: 'ok', percentile: '99' });
    const sum = total(samples, 'sluice_request_duration_seconds_sum', { route: 'ok' });
    assert.ok(p99 > 0 && p99 <= sum, `p99 ${p99} within (0, sum ${sum}]`);

    assert.equal(total(samples, 'sluice_upstream_tries_total', { upstream: 'ok', outcome: 'ok' }), OK);
    assert.equal(total(samples, 'sluice_upstream_tries_total', { upstream: 'dead', outcome: 'failed' }), 10, 'two tries per request');
    assert.equal(total(samples, 'sluice_upstream_retries_total', { route: 'dead', upstream: 'dead' }), 5);
    assert.equal(total(samples, 'sluice_upstream_try_duration_seconds_count', { upstream: 'ok' }), OK);
    const tryP99 = total(samples, 'sluice_upstream_try_duration_percentile_seconds', { upstream: 'ok', percentile: '99' });
    assert.ok(tryP99 > 0 && tryP99 <= total(samples, 'sluice_upstream_try_duration_seconds_sum', { upstream: 'ok' }), `upstream p99 ${tryP99}`);
    assert.equal(total(samples, 'sluice_endpoint_healthy', { upstream: 'ok', endpoint: origin.origin }), 1);
    assert.ok(total(samples, 'sluice_upstream_pool_connections', { endpoint: origin.origin }) >= 1, 'a kept-alive connection');

    assert.equal(total(samples, 'sluice_worker_up'), 2);
    assert.equal(total(samples, 'sluice_config_generation'), 1);
    assert.ok(total(samples, 'sluice_process_resident_memory_bytes') > 10e6);
    assert.ok(has(samples, 'sluice_worker_event_loop_delay_p99_seconds', { worker: '1' }));

    // A second scrape counts on: series outlive scrapes, nothing is reset by reading.
    await request(gw.url('/ok/again'));
    const again = (await scrape(gw)).samples;
    assert.equal(total(again, 'sluice_requests_total', { route: 'ok', status_class: '2xx' }), OK + 1);
  } finally {
    await gw.stop();
  }
});

test('rate-limit decisions per limit and auth failures per reason', async () => {
  const gw = await startGateway(config());
  try {
    const limited = [];
    for (let i = 0; i < 5; i++) limited.push((await request(gw.url('/limited'))).status);
    assert.deepEqual(limited, [200, 200, 429, 429, 429]);
    assert.equal((await request(gw.url('/keyed'))).status, 401);
    assert.equal((await request(gw.url('/keyed'), { headers: { 'x-api-key': 'wrong-key-0123456789' } })).status, 401);
    assert.equal((await request(gw.url('/keyed'), { headers: { 'x-api-key': 'the-key-0123456789' } })).status, 200);
    const { samples } = await scrape(gw);
    assert.equal(total(samples, 'sluice_rate_limit_decisions_total', { route: 'limited', limit: 'per-route', decision: 'allowed' }), 2);
    assert.equal(total(samples, 'sluice_rate_limit_decisions_total', { route: 'limited', limit: 'per-route', decision: 'denied' }), 3);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'limited', status_class: '4xx', code: 'SLUICE_ERR_RATE_LIMITED' }), 3);
    assert.equal(total(samples, 'sluice_local_replies_total', { route: 'limited', stage: 'rate_limit' }), 3);
    assert.equal(total(samples, 'sluice_auth_failures_total', { route: 'keyed', reason: 'missing' }), 1);
    assert.equal(total(samples, 'sluice_auth_failures_total', { route: 'keyed', reason: 'apiKey' }), 1);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'keyed', status_class: '2xx' }), 1);
  } finally {
    await gw.stop();
  }
});

test('OpenMetrics when the scraper asks for it', async () => {
  const gw = await startGateway(config());
  try {
    await request(gw.url('/ok'));
    const { text, type } = await scrape(gw, 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5');
    assert.match(type, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(text, /# TYPE sluice_requests counter\n/);
    assert.match(text, /\nsluice_requests_total\{route="ok",status_class="2xx",code=""\} 1\n/);
    assert.ok(text.endsWith('# EOF\n'));
    const refused = await scrape(gw, 'application/openmetrics-text;q=0, text/plain');
    assert.match(refused.type, /^text\/plain; version=0\.0\.4/, 'q=0 refuses OpenMetrics');
  } finally {
    await gw.stop();
  }
});

test('a reload keeps counting on the same series; reload results are counted', async () => {
  const gw = await startGateway(config());
  try {
    await request(gw.url('/ok'));
    writeFileSync(gw.configFile, `${config()}\n  - { name: more, match: { path: /more }, respond: { body: more } }\n`);
    const reloaded = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' });
    assert.equal(reloaded.status, 200, reloaded.body);
    writeFileSync(gw.configFile, `${config()}\n  - { name: broken, match: { path: /x }, upstream: nowhere }\n`);
    assert.equal((await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' })).status, 400);
    await request(gw.url('/ok'));
    await request(gw.url('/more'));
    const { samples } = await scrape(gw);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'ok', status_class: '2xx' }), 2, 'counted across generations');
    assert.equal(total(samples, 'sluice_requests_total', { route: 'more', status_class: '2xx' }), 1);
    assert.equal(total(samples, 'sluice_config_reloads_total', { result: 'ok' }), 1);
    assert.equal(total(samples, 'sluice_config_reloads_total', { result: 'failed' }), 1);
    assert.equal(total(samples, 'sluice_config_last_reload_success'), 0);
    assert.equal(total(samples, 'sluice_config_generation'), 2);
  } finally {
    await gw.stop();
  }
});

test('concurrent scrapes share one: every answer has the exact count and both workers up', async () => {
  const many = Array.from({ length: 300 }, (_, i) => `  - { name: r${i}, match: { path: /r${i} }, respond: { body: r } }`).join('\n');
  const gw = await startGateway(`${config()}${many}\n`);
  try {
    for (let i = 0; i < 30; i++) await request(gw.url('/hello'));
    const all = await Promise.all(Array.from({ length: 20 }, () => scrape(gw)));
    for (const { samples } of all) {
      assert.equal(total(samples, 'sluice_requests_total', { route: 'hello', status_class: '2xx' }), 30);
      assert.equal(total(samples, 'sluice_worker_up'), 2);
    }
  } finally {
    await gw.stop();
  }
});

test('a route or endpoint the config no longer has loses its series (renames and discovery churn cannot grow them)', async () => {
  const other = await startUpstream();
  const gw = await startGateway(config());
  try {
    await request(gw.url('/ok'));
    await request(gw.url('/hello'));
    writeFileSync(gw.configFile, config().replace(`url: "${origin.origin}"`, `url: "${other.origin}"`).replace('name: hello,', 'name: greeting,'));
    assert.equal((await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' })).status, 200);
    await request(gw.url('/ok'));
    const { samples } = await scrape(gw);
    assert.ok(!has(samples, 'sluice_upstream_tries_total', { endpoint: origin.origin }), 'the old endpoint is gone');
    assert.ok(!has(samples, 'sluice_requests_total', { route: 'hello' }), 'the renamed route is gone');
    assert.ok(!has(samples, 'sluice_local_replies_total', { route: 'hello' }));
    assert.ok(has(samples, 'sluice_requests_total', { route: 'greeting' }));
    assert.equal(total(samples, 'sluice_upstream_tries_total', { upstream: 'ok', endpoint: other.origin, outcome: 'ok' }), 1);
    assert.equal(total(samples, 'sluice_requests_total', { route: 'ok', status_class: '2xx' }), 2, 'route series stay');
  } finally {
    await gw.stop();
    await other.close();
  }
});

test('metrics.enabled: false records no request series; the process and upstream ones stay', async () => {
  const gw = await startGateway(config('metrics: { enabled: false }'));
  try {
    await request(gw.url('/ok'));
    const { samples } = await scrape(gw);
    assert.ok(!has(samples, 'sluice_requests_total'));
    assert.ok(!has(samples, 'sluice_upstream_tries_total'));
    assert.equal(total(samples, 'sluice_endpoint_healthy', { upstream: 'ok' }), 1);
    assert.equal(total(samples, 'sluice_worker_up'), 2);
  } finally {
    await gw.stop();
  }
});

test('GET /workers: every worker, alive, with its generation and event-loop delay; /metrics needs the admin token', async () => {
  const gw = await startGateway(`admin: { token: "metrics-token-0123456789" }\n${config()}`);
  try {
    const admin = (path: string, token?: string) =>
      request(`http://127.0.0.1:${gw.adminPort}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    assert.equal((await admin('/metrics')).status, 401);
    assert.equal((await admin('/workers')).status, 401);
    assert.equal((await admin('/metrics', 'metrics-token-0123456789')).status, 200);
    const w = json(await admin('/workers', 'metrics-token-0123456789'));
    assert.equal(w.generation, 1);
    assert.deepEqual(
      w.workers.map((x: any) => [x.index, x.alive, x.generation, x.restarts, x.in_flight]),
      [
        [0, true, 1, 0, 0],
        [1, true, 1, 0, 0],
      ],
    );
    for (const x of w.workers) {
      assert.equal(typeof x.event_loop_delay_p99_ms, 'number');
      assert.ok(x.heap_used_bytes > 1e6);
    }
  } finally {
    await gw.stop();
  }
});
