import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawExchange, request, statuses } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Guards before routing: every malformed or ambiguous request is refused and never forwarded.
let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  gw = await startGateway(`
limits: { max_header_bytes: 4096, max_body_bytes: 1000 }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: api, match: { prefix: /api/ }, upstream: u }
  - { name: admin, match: { prefix: /admin }, respond: { status: 403, body: "admin is internal" } }
`);
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await up.close();
});

const head = (lines: string[]) => lines.join('\r\n') + '\r\n\r\n';

/** Answered 400 by sluice (JSON, connection closed), or closed by uWS's own parser. */
function assertRefused(r: { text: string; closed: boolean }, status = 400) {
  const got = statuses(r.text);
  assert.ok(got.length === 0 ? r.closed : got[0] === status, `expected ${status} or a reset, got ${JSON.stringify(r.text.slice(0, 200))}`);
  assert.ok(!got.includes(200), 'nothing may be forwarded');
}

/**
 * Requests uWS 20.30's parser never hands to sluice (no Host, CTL bytes, a space in a header name,
 * CONNECT, absolute-form targets): uWS leaves them unanswered until its idle timeout. They are never
 * forwarded and never answered with anything but an error (docs/security.md).
 */
function assertNotServed(r: { text: string; closed: boolean }) {
  const got = statuses(r.text);
  assert.ok(
    got.every((s) => s === 400),
    `unexpected answer ${JSON.stringify(r.text.slice(0, 200))}`,
  );
}

test('Content-Length with Transfer-Encoding → 400, connection closed, nothing forwarded', async () => {
  const n = up.seen.length;
  const r = await rawExchange(gw.port, head(['POST /api/x HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked']) + '0\r\n\r\n');
  assertRefused(r);
  assert.ok(r.closed);
  assert.equal(up.seen.length, n);
});

test('duplicate Content-Length (CL.CL smuggling) → 400 and the smuggled request is never answered', async () => {
  const n = up.seen.length;
  const smuggled = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await rawExchange(gw.port, head(['POST /api/x HTTP/1.1', 'Host: a', 'Content-Length: 0', `Content-Length: ${smuggled.length}`]) + smuggled);
  assertRefused(r);
  assert.deepEqual(
    statuses(r.text).filter((s) => s === 403),
    [],
    'the body must not be parsed as a request',
  );
  assert.equal(up.seen.length, n);
});

test('bad Content-Length values and Transfer-Encoding variants → 400', async () => {
  for (const h of [
    'Content-Length: +5',
    'Content-Length: 0x5',
    'Content-Length: 1234567890123456',
    'Transfer-Encoding: xchunked',
    'Transfer-Encoding: gzip, chunked',
    'Transfer-Encoding: identity',
  ]) {
    const r = await rawExchange(gw.port, head(['POST /api/x HTTP/1.1', 'Host: a', h]) + '0\r\n\r\n', 800);
    assertRefused(r);
  }
});

test('Host must appear exactly once, be non-empty and be a host name or address', async () => {
  const n = up.seen.length;
  assertRefused(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', 'Host: a', 'Host: b'])));
  assertRefused(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', 'Host:'])));
  for (const bad of ['a b', 'a/..', 'user@a', 'a"b', 'caf\u00e9.example']) {
    const r = await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', `Host: ${bad}`]));
    assert.deepEqual(statuses(r.text), [400], bad);
    assert.ok(r.closed, `closed after the 400 for Host: ${bad}`);
  }
  assertNotServed(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1']), 500));
  assert.equal(up.seen.length, n);
  for (const good of ['a:8080', '[::1]:8080', '127.0.0.1', 'xn--caf-dma.example']) {
    const r = await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', `Host: ${good}`]), 500);
    assert.deepEqual(statuses(r.text), [200], good);
  }
});

test('control bytes in header names or values → 400 or never served', async () => {
  const n = up.seen.length;
  assertRefused(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', 'Host: a', 'X-A: a\x7fb'])));
  assertNotServed(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', 'Host: a', 'X-A: a\x01b']), 500));
  assertNotServed(await rawExchange(gw.port, head(['GET /api/x HTTP/1.1', 'Host: a', 'X A: b']), 500));
  assert.equal(up.seen.length, n);
});

test('chunked request bodies are refused with 411 unless enabled', async () => {
  const r = await rawExchange(gw.port, head(['POST /api/x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']) + '5\r\nhello\r\n0\r\n\r\n');
  assert.deepEqual(statuses(r.text).slice(0, 1), [411]);
  assert.match(r.text, /SLUICE_ERR_LENGTH_REQUIRED/);
});

test('a bad path, a bad query or CONNECT with a chunked body closes: the next request in its bytes is never forwarded', async () => {
  const n = up.seen.length;
  // uWS's chunk parser does not check the bytes after chunk data: "abXX0..." would leave the next request framed.
  const body = '2\r\nabXX0\r\n\r\n';
  const next = 'GET /api/after HTTP/1.1\r\nHost: a\r\n\r\n';
  for (const line of ['POST /api/a%2Fb HTTP/1.1', 'POST /api/x?a\x7fb HTTP/1.1', 'CONNECT /api/x HTTP/1.1']) {
    const r = await rawExchange(gw.port, head([line, 'Host: a', 'Transfer-Encoding: chunked']) + body + next, 800);
    assert.ok(!statuses(r.text).includes(200), `${line}: ${r.text.slice(0, 200)}`);
    assert.ok(r.closed, `${line}: the connection is closed`);
  }
  assert.equal(up.seen.length, n, 'nothing forwarded');
  // Without a body the same refusal keeps the connection.
  const kept = await rawExchange(gw.port, head(['GET /api/a%2Fb HTTP/1.1', 'Host: a']) + next, 800);
  assert.deepEqual(statuses(kept.text), [400, 200]);
});

test('oversized head → 431, oversized body → 413, neither forwarded', async () => {
  const n = up.seen.length;
  const big = await request(gw.url('/api/x'), { headers: { 'x-big': 'a'.repeat(5000) } }).catch(() => null);
  if (big !== null) assert.equal(big.status, 431);
  const r = await rawExchange(gw.port, head(['POST /api/x HTTP/1.1', 'Host: a', 'Content-Length: 5000']) + 'x'.repeat(5000));
  assert.deepEqual(statuses(r.text), [413]);
  assert.match(r.text, /SLUICE_ERR_BODY_TOO_LARGE/);
  assert.equal(up.seen.length, n);
});

test('path normalisation happens before routing: traversal cannot reach another route', async () => {
  for (const p of ['/api/../admin', '/api/%2e%2e/admin', '/api/%2E%2E/admin', '//admin', '/api/./../admin']) {
    const r = await rawExchange(gw.port, head([`GET ${p} HTTP/1.1`, 'Host: a']), 500);
    assert.deepEqual(statuses(r.text), [403], p);
  }
  const up0 = up.seen.length;
  const r = await rawExchange(gw.port, head(['GET /api/a/%2e/b//c/%7Ed HTTP/1.1', 'Host: a']), 500);
  assert.deepEqual(statuses(r.text), [200]);
  assert.equal(up.seen[up0].url, '/api/a/b/c/~d', 'the upstream receives the normalised path');
  for (const p of ['/api/../../etc', '/api/%zz', '/api/a%00b', '/api\\..\\admin']) {
    const bad = await rawExchange(gw.port, head([`GET ${p} HTTP/1.1`, 'Host: a']), 500);
    assertRefused(bad);
  }
});

test('pipelined requests: answered in order, or the connection is closed; never out of order', async () => {
  const admin = head(['GET /admin HTTP/1.1', 'Host: a']);
  const local = await rawExchange(gw.port, admin + admin + admin, 800);
  assert.deepEqual(statuses(local.text), [403, 403, 403]);
  // uWS closes a connection when a pipelined request arrives while a proxied answer is pending.
  const proxied = await rawExchange(gw.port, head(['GET /api/1 HTTP/1.1', 'Host: a']) + admin, 800);
  const got = statuses(proxied.text);
  assert.deepEqual(got, [200, 403].slice(0, got.length));
  if (got.length < 2) assert.ok(proxied.closed);
});

test('CONNECT and absolute-form targets are never served', async () => {
  const n = up.seen.length;
  assertNotServed(await rawExchange(gw.port, head(['CONNECT a:443 HTTP/1.1', 'Host: a:443']), 500));
  assertNotServed(await rawExchange(gw.port, head(['GET http://evil.example/api/x HTTP/1.1', 'Host: a']), 500));
  assert.equal(up.seen.length, n);
});

test('HTTP/1.0 request lines are never served (uWS does not answer them; documented)', async () => {
  const n = up.seen.length;
  assertNotServed(await rawExchange(gw.port, head(['GET /api/x HTTP/1.0', 'Host: a']), 500));
  assert.equal(up.seen.length, n);
});

test('allow_chunked_requests: true streams a chunked body upstream, re-framed, within max_body_bytes', async () => {
  const chunkedUp = await startUpstream();
  const chunkedGw = await startGateway(`
limits: { max_body_bytes: 1000, allow_chunked_requests: true }
upstreams:
  u: { endpoints: [ { url: "${chunkedUp.origin}" } ] }
routes:
  - { name: api, match: { prefix: /api/ }, upstream: u }
`);
  try {
    const ok = await rawExchange(
      chunkedGw.port,
      head(['POST /api/x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']) + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      800,
    );
    assert.deepEqual(statuses(ok.text), [200]);
    assert.match(ok.text, /"bytes":11\}/, 'the upstream received the 11 decoded bytes');
    const framing = chunkedUp.seen[0].rawHeaders.filter((h) => /^(content-length|transfer-encoding)$/i.test(h));
    assert.equal(framing.length, 1, `the forwarded body is framed one way only: ${framing}`);

    const big = await rawExchange(
      chunkedGw.port,
      head(['POST /api/x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']) + '3e8\r\n' + 'x'.repeat(1000) + '\r\n1\r\ny\r\n0\r\n\r\n',
      800,
    );
    assert.deepEqual(statuses(big.text), [413]);
  } finally {
    assert.equal(await chunkedGw.stop(), 0);
    await chunkedUp.close();
  }
});
