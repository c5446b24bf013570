import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { waitFor } from '../../helpers/wait.js';

/** Local limits through the real data plane: 2 worker threads sharing one table. */
let up: TestUpstream;
let gw: TestGateway;
const held: ServerResponse[] = [];

before(async () => {
  up = await startUpstream((req, res) => {
    if (req.url === '/hold') {
      held.push(res);
      return;
    }
    // The upstream's own policy header: replaced where sluice sends its own, passed where it does not.
    res.writeHead(200, { 'content-type': 'text/plain', 'RateLimit-Policy': '"upstream";q=9' });
    res.end('ok');
  });
  gw = await startGateway(`
rate_limits: { table_slots: 1024 }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: steady
    match: { prefix: /steady }
    upstream: up
    rate_limit: [ { name: everyone, key: route, rate: 40, per: 1s, burst: 10 } ]
  - name: per-client
    match: { prefix: /per-client }
    upstream: up
    rate_limit: [ { name: client, key: "header:x-client", rate: 1, per: 1h, burst: 3, headers: false } ]
  - name: two-limits
    match: { prefix: /two }
    upstream: up
    rate_limit:
      - { name: per-ip, key: ip, rate: 1, per: 1h, burst: 5 }
      - { name: per-key, key: ["header:x-key", ip], rate: 1, per: 1h, burst: 1 }
  - name: hold
    match: { prefix: /hold }
    upstream: up
    rate_limit: [ { name: concurrent, key: route, max_in_flight: 2 } ]
`);
});
after(async () => {
  for (const r of held) r.end();
  await gw?.stop();
  await up?.close();
});

test('one key hammered through 2 workers: 200s = burst + rate × elapsed (± one), never one budget per worker', async () => {
  const started = Date.now();
  let ok = 0;
  let limited = 0;
  const client = async () => {
    while (Date.now() - started < 2000) {
      const r = await request(gw.url('/steady'));
      if (r.status === 200) ok++;
      else if (r.status === 429) limited++;
      else assert.fail(`unexpected ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, client));
  const elapsed = (Date.now() - started) / 1000;
  assert.ok(limited > 0, 'the load exceeded the limit');
  assert.ok(ok <= 10 + Math.ceil(40 * elapsed) + 1, `${ok} allowed in ${elapsed} s: more than burst + rate × elapsed`);
  assert.ok(ok >= 10 + Math.floor(40 * (elapsed - 0.25)) - 1, `${ok} allowed in ${elapsed} s: fewer than the limit allows`);
  const allowedLines = () => gw.logs.filter((l) => l.type === 'access' && l.route === 'steady' && l.status === 200);
  await waitFor(() => allowedLines().length === ok, 'an access line for every allowed request'); // access lines are flushed in batches
  const workers = new Set(allowedLines().map((l) => l.worker));
  assert.equal(workers.size, 2, 'both workers served allowed requests: the budget is shared, not per worker');
});

test('200 clients in a 1024-slot table (many share a home slot) each get exactly their own burst (hash collisions never share a budget)', async () => {
  const counts = await Promise.all(
    Array.from({ length: 200 }, async (_, c) => {
      let ok = 0;
      for (let i = 0; i < 5; i++) {
        const r = await request(gw.url('/per-client'), { headers: { 'x-client': `client-${c}` } });
        if (r.status === 200) ok++;
        else assert.equal(r.status, 429);
      }
      return ok;
    }),
  );
  assert.deepEqual(
    counts.filter((n) => n !== 3),
    [],
    'some client got more or less than burst 3',
  );
  const r = await request(gw.url('/per-client'), { headers: { 'x-client': 'client-new' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['ratelimit-policy'], '"upstream";q=9', 'headers: false: sluice sends none of its own');
});

test('429 carries Retry-After and the IETF RateLimit headers; a denied request consumes nothing', async () => {
  const first = await request(gw.url('/two'), { headers: { 'x-key': 'k1' } });
  assert.equal(first.status, 200);
  assert.equal(first.headers['ratelimit-policy'], '"per-ip";q=1;w=3600, "per-key";q=1;w=3600');
  assert.equal(first.headers.ratelimit, '"per-ip";r=4;t=3600, "per-key";r=0;t=3600');
  for (let i = 0; i < 3; i++) {
    const denied = await request(gw.url('/two'), { headers: { 'x-key': 'k1' } });
    assert.equal(denied.status, 429);
    assert.equal(json(denied).error.code, 'SLUICE_ERR_RATE_LIMITED');
    assert.equal(denied.headers['retry-after'], '3600');
    assert.equal(denied.headers.ratelimit, '"per-key";r=0;t=3600');
  }
  // The three denials took nothing from per-ip: four more keys still fit in its burst of 5.
  for (const k of ['k2', 'k3', 'k4', 'k5']) assert.equal((await request(gw.url('/two'), { headers: { 'x-key': k } })).status, 200);
  const sixth = await request(gw.url('/two'), { headers: { 'x-key': 'k6' } });
  assert.equal(sixth.status, 429);
  assert.equal(sixth.headers.ratelimit, '"per-ip";r=0;t=3600');
  // Denials are summarised in the log, at most once a second per limit and worker.
  const line = await gw.waitForLog((l) => l.msg === 'rate limit denying requests' && l.route === 'two-limits');
  assert.ok(line.denied >= 1);
});

test('max_in_flight: the third concurrent request is refused, and aborted requests give their place back', async () => {
  const pending = [openHeld(), openHeld()];
  await waitFor(() => held.length === 2, 'both requests held');
  const third = await request(gw.url('/hold'));
  assert.equal(third.status, 429);
  assert.equal(json(third).error.code, 'SLUICE_ERR_TOO_MANY_IN_FLIGHT');
  for (const p of pending) p.destroy(); // clients give up: the gateway must release both places
  await waitFor(async () => (await quickHold()) === 200, 'the places given back');
  // Completed requests release too: many in a row never hit the limit.
  for (let i = 0; i < 10; i++) assert.equal(await quickHold(), 200);
  // And both places are free again: two can be held at once.
  const again = [openHeld(), openHeld()];
  await waitFor(() => held.length === 2, 'both requests held');
  held.splice(0).forEach((r) => r.end());
  for (const p of again) p.destroy();
});

test('config: both rate and max_in_flight, cluster scope without Redis, and an unknown key kind are named errors', async () => {
  const validate = async (limits: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-rl-')), 'bad.yaml');
    writeFileSync(
      file,
      `upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:1" } ] }
routes:
  - name: r
    match: { prefix: / }
    upstream: up
    rate_limit:
${limits}`,
    );
    const r = await runCli(['validate', '--config', file]);
    assert.notEqual(r.code, 0);
    return r.stderr;
  };
  const crossField = await validate(`      - { name: a, key: ip, rate: 5, max_in_flight: 3 }
      - { name: b, key: ip, rate: 5, scope: cluster }
`);
  assert.match(crossField, /bad\.yaml:8:\d+ routes\[0\]\.rate_limit\[0\]\.rate: set exactly one of rate/);
  assert.match(crossField, /bad\.yaml:9:\d+ routes\[0\]\.rate_limit\[1\]\.scope: scope: cluster needs rate_limits\.redis\.url/);
  const badKey = await validate('      - { name: c, key: "cookie:x", rate: 5 }\n');
  assert.match(badKey, /bad\.yaml:8:\d+ routes\[0\]\.rate_limit\[0\]\.key/);
});

/** A /hold request left open; destroy() aborts it from the client side. */
function openHeld() {
  const req = httpRequest(gw.url('/hold'), { agent: false });
  req.on('error', () => {});
  req.end();
  return req;
}

async function quickHold(): Promise<number> {
  return (await request(gw.url('/hold/quick'))).status;
}
