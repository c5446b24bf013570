import assert from 'node:assert/strict';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

/**
 * onLog runs exactly once per request, however the request ends, through the real data plane. Two
 * witnesses: a max_in_flight: 1 limit, whose place is given back in onLog (a missed onLog keeps it,
 * and the next request is refused), and the access log, written by the same once-only completion
 * that runs onLog (a second completion would log the request twice).
 */
let up: TestUpstream;
let gw: TestGateway;
const held: ServerResponse[] = [];

before(async () => {
  up = await startUpstream((req, res) => {
    switch (req.url) {
      case '/w/hold':
        held.push(res);
        return;
      case '/w/hang':
        return;
      case '/w/reset':
        req.socket.destroy();
        return;
      case '/w/cut':
        res.writeHead(200, { 'content-length': '100' });
        res.write('0123456789');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      case '/w/slow':
        res.writeHead(200, { 'content-length': '100' });
        res.write('0123456789');
        held.push(res);
        return;
      default:
        res.end('ok');
    }
  });
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: witness
    match: { prefix: /w/ }
    upstream: up
    timeout_ms: 1500
    rate_limit: [ { name: one, key: route, max_in_flight: 1 } ]
`);
});
after(async () => {
  for (const r of held) r.destroy();
  await gw?.stop();
  await up?.close();
});

/** The single place is free: one request can hold it, a second is refused meanwhile, and it comes back. */
async function assertPlaceFreeOnce(after: string): Promise<void> {
  held.splice(0).forEach((r) => r.destroy());
  // A client's close reaches the gateway a moment after it is sent: give the place a bounded time to come back.
  await waitFor(async () => (await request(gw.url('/w/ok'))).status === 200, `${after}: the place was never given back (onLog missed)`);
  const holder = open('/w/hold');
  await waitFor(() => held.length === 1, `${after}: the holder was refused`);
  const second = await request(gw.url('/w/ok'));
  assert.equal(second.status, 429, `${after}: two requests in flight at once (onLog ran twice)`);
  assert.equal(json(second).error.code, 'SLUICE_ERR_TOO_MANY_IN_FLIGHT');
  held.shift()!.end('done');
  assert.equal(await holder.status, 200);
  assert.equal((await request(gw.url('/w/ok'))).status, 200, `${after}: the holder's place was not given back`);
}

test('answered, upstream reset, route timeout, response cut, client gone before and during the body: one onLog each', async () => {
  const id = (name: string) => ({ 'x-request-id': `once-${name}` });
  assert.equal((await request(gw.url('/w/ok'), { headers: id('ok') })).status, 200);
  await assertPlaceFreeOnce('a 200');

  assert.equal((await request(gw.url('/w/reset'), { headers: id('reset') })).status, 502);
  await assertPlaceFreeOnce('an upstream reset (502)');

  const timedOut = await request(gw.url('/w/hang'), { headers: id('timeout') });
  assert.equal(timedOut.status, 504);
  assert.equal(json(timedOut).error.code, 'SLUICE_ERR_ROUTE_TIMEOUT');
  await assertPlaceFreeOnce('a route timeout (504)');

  await assert.rejects(request(gw.url('/w/cut'), { headers: id('cut') }), 'the client sees the truncation');
  await assertPlaceFreeOnce('a response cut mid-body');

  const waiting = open('/w/hold', id('gone-early'));
  await waitFor(() => held.length === 1, 'the upstream got the request');
  waiting.req.destroy();
  await assertPlaceFreeOnce('a client gone before the head');

  const reading = open('/w/slow', id('gone-mid-body'));
  await reading.firstBytes;
  reading.req.destroy();
  await assertPlaceFreeOnce('a client gone mid-body');

  const names = ['ok', 'reset', 'timeout', 'cut', 'gone-early', 'gone-mid-body'];
  // Access lines are flushed at least once a second.
  await waitFor(() => names.every((n) => gw.logs.some((l) => l.request_id === `once-${n}`)), 'every request logged', 3000);
  await new Promise((r) => setTimeout(r, 1200));
  for (const n of names) assert.equal(gw.logs.filter((l) => l.type === 'access' && l.request_id === `once-${n}`).length, 1, `${n}: logged once`);
});

/** A request left open: `status` resolves when it completes, `firstBytes` when the body starts. */
function open(path: string, headers: Record<string, string> = {}) {
  let firstBytes!: () => void;
  const started = new Promise<void>((r) => {
    firstBytes = r;
  });
  let req!: ReturnType<typeof httpRequest>;
  const status = new Promise<number>((resolve) => {
    req = httpRequest(gw.url(path), { agent: false, headers }, (res) => {
      res.once('data', () => firstBytes());
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
  return { req, status, firstBytes: started };
}
