import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, type Reply, request } from '../helpers/http.js';
import { refusedPort, startRawUpstream, startUpstream, type TestUpstream } from '../helpers/upstream.js';

let healthy: TestUpstream;
let resetMid: TestUpstream;
let resetBefore: TestUpstream;
let slow: TestUpstream;
let malformed: TestUpstream;
let abortWatch: TestUpstream;
let gw: TestGateway;
let upstreamSawClose = false;
let deadPort: number;

before(async () => {
  deadPort = await refusedPort();
  healthy = await startUpstream((req, res) => {
    if (req.url === '/204') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.url === '/304') {
      res.writeHead(304, { etag: '"x"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('healthy');
  });
  resetMid = await startRawUpstream((s) =>
    s.once('data', () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
      setTimeout(() => s.resetAndDestroy(), 50);
    }),
  );
  resetBefore = await startRawUpstream((s) => s.once('data', () => s.resetAndDestroy()));
  slow = await startRawUpstream(() => {
    /* accepts, never answers */
  });
  malformed = await startRawUpstream((s) => s.once('data', () => s.end('HTTP/1.1 2000 What\r\nbroken\r\n\r\n')));
  abortWatch = await startUpstream((req) => {
    req.socket.once('close', () => {
      upstreamSawClose = true;
    });
  });
  gw = await startGateway(
    `
timeouts: { connect_ms: 500, response_header_ms: 700, idle_ms: 2000 }
upstreams:
  healthy: { endpoints: [ { url: "${healthy.origin}" } ] }
  dead:
    endpoints: [ { url: "http://127.0.0.1:${deadPort}" } ]
    health: { passive: { consecutive_failures: 1, max_ejected_percent: 100 } }
  half-dead: { endpoints: [ { url: "http://127.0.0.1:${deadPort}" }, { url: "${healthy.origin}" } ] }
  reset-mid: { endpoints: [ { url: "${resetMid.origin}" } ] }
  reset-before: { endpoints: [ { url: "${resetBefore.origin}" } ] }
  slow: { endpoints: [ { url: "${slow.origin}" } ] }
  malformed: { endpoints: [ { url: "${malformed.origin}" } ] }
  abort-watch: { endpoints: [ { url: "${abortWatch.origin}" } ] }
routes:
  - { name: healthy, match: { prefix: /healthy/ }, upstream: healthy, rewrite: { strip_prefix: /healthy } }
  - { name: dead, match: { prefix: /dead }, upstream: dead }
  - { name: half-dead, match: { prefix: /half-dead }, upstream: half-dead }
  - { name: reset-mid, match: { prefix: /reset-mid }, upstream: reset-mid }
  - { name: reset-before, match: { prefix: /reset-before }, upstream: reset-before }
  - { name: slow, match: { prefix: /slow }, upstream: slow }
  - { name: malformed, match: { prefix: /malformed }, upstream: malformed }
  - { name: abort-watch, match: { prefix: /abort-watch }, upstream: abort-watch }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  for (const u of [healthy, resetMid, resetBefore, slow, malformed, abortWatch]) await u.close();
});

function assertError(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, r.body);
  const body = json(r);
  assert.equal(body.error.code, code);
  assert.equal(body.error.request_id, r.headers['x-request-id']);
}

test('connection refused → 502, then 503 while the only endpoint is ejected', async () => {
  const first = await request(gw.url('/dead'));
  assertError(first, 502, 'SLUICE_ERR_UPSTREAM_CONNECT');
  const second = await request(gw.url('/dead'));
  assertError(second, 503, 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
  const line = await gw.waitForLog((l) => l.msg === 'upstream error' && l.request_id === first.headers['x-request-id']);
  assert.equal(line.cause, 'ECONNREFUSED');
  assert.equal(line.upstream, 'dead');
});

test('a refused endpoint is skipped: GETs reach the live one', async () => {
  for (let i = 0; i < 6; i++) {
    const r = await request(gw.url('/half-dead'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'healthy');
  }
});

test('reset before the response → 502', async () => {
  assertError(await request(gw.url('/reset-before')), 502, 'SLUICE_ERR_UPSTREAM_RESET');
});

test('reset mid-response → the client connection is cut (truncated body, never a hang)', async () => {
  await assert.rejects(
    request(gw.url('/reset-mid')),
    (err: NodeJS.ErrnoException) => ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code!) || /aborted|socket hang up/.test(err.message),
  );
});

test('no response headers within response_header_ms → 504', async () => {
  const started = Date.now();
  assertError(await request(gw.url('/slow')), 504, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
  assert.ok(Date.now() - started < 5000);
});

test('a malformed upstream response → 502', async () => {
  assertError(await request(gw.url('/malformed')), 502, 'SLUICE_ERR_UPSTREAM_PROTOCOL');
});

test('204 and 304 pass through without a body', async () => {
  const r204 = await request(gw.url('/healthy/204'));
  assert.equal(r204.status, 204);
  assert.equal(r204.body, '');
  const r304 = await request(gw.url('/healthy/304'));
  assert.equal(r304.status, 304);
  assert.equal(r304.headers.etag, '"x"');
});

test('a client that disconnects aborts the upstream request', async () => {
  upstreamSawClose = false;
  const { request: raw } = await import('node:http');
  const req = raw(gw.url('/abort-watch'), { agent: false });
  req.on('error', () => {});
  req.end();
  await sleep(300);
  req.destroy();
  for (let i = 0; i < 40 && !upstreamSawClose; i++) await sleep(50);
  assert.ok(upstreamSawClose, 'the upstream connection was closed when the client went away');
  const line = await gw.waitForLog((l) => l.type === 'access' && l.route === 'abort-watch');
  assert.equal(line.status, 499);
});

test('the gateway is still healthy after all of that', async () => {
  assert.equal((await request(gw.url('/healthy/x'))).body, 'healthy');
  assert.equal(gw.stderr.join(''), '');
});
