import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, rawTurns, request, statuses } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let a: TestUpstream;
let b: TestUpstream;
let gw: TestGateway;

before(async () => {
  a = await startUpstream();
  b = await startUpstream((req, res) => {
    // Mixed case on purpose: the proxy matches response header names byte by byte, ignoring case.
    res.writeHead(200, {
      // Passing lines next to each other reach uWS as one run: a colon in a value must stay a value.
      'Content-Type': 'text/plain',
      'Set-Cookie': ['a=1', 'b=2'],
      'X-Colon': 'a: b',
      Connection: 'close, X-Hop',
      'X-Hop': 'secret',
      'Keep-Alive': 'timeout=5',
      'X-Request-ID': 'upstream-made-this',
      Date: 'Mon, 01 Jan 2001 00:00:00 GMT',
      Via: '1.0 origin',
      'X-Kept-Ali': 'same length as Keep-Alive',
    });
    res.end(`b:${req.url}`);
  });
  gw = await startGateway(`
upstreams:
  a: { endpoints: [ { url: "${a.origin}" } ] }
  b: { endpoints: [ { url: "${b.origin}" } ] }
routes:
  - name: users
    match: { hosts: [api.example.com], methods: [GET, POST], path: /api/users/:id }
    upstream: a
    rewrite: { strip_prefix: /api }
  - name: upstream-host
    match: { path: /own-host }
    upstream: a
    preserve_host: false
  - name: b
    match: { prefix: /b/ }
    upstream: b
  - name: ping
    match: { path: /ping }
    respond: { status: 200, body: "pong", headers: { content-type: text/plain } }
  - name: fallback
    match: { prefix: /, hosts: [api.example.com] }
    upstream: a
`);
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await a.close();
  await b.close();
});

test('forwards to the matched route with strip_prefix, query intact', async () => {
  const r = await request(gw.url('/api/users/42?x=1&y=%20'), { headers: { host: 'api.example.com' } });
  assert.equal(r.status, 200);
  assert.equal(json(r).url, '/users/42?x=1&y=%20');
  assert.equal(r.headers['x-upstream'], 'echo');
});

test('a respond: route answers without an upstream', async () => {
  const r = await request(gw.url('/ping'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'pong');
  assert.equal(r.headers['content-type'], 'text/plain');
});

test('no matching route → 404 with a JSON error code and the request id', async () => {
  const r = await request(gw.url('/nowhere'), { headers: { host: 'other.example.org' } });
  assert.equal(r.status, 404);
  const body = json(r);
  assert.equal(body.error.code, 'SLUICE_ERR_ROUTE_NOT_FOUND');
  assert.equal(body.error.request_id, r.headers['x-request-id']);
  const wrongMethod = await request(gw.url('/api/users/1'), { method: 'DELETE', headers: { host: 'api.example.com' } });
  assert.equal(json(wrongMethod).url, '/api/users/1', 'DELETE is not allowed on "users", so the host fallback takes it');
});

test('request header hygiene: hop-by-hop dropped, X-Forwarded-*, Via, request id, client Host kept', async () => {
  const before = a.seen.length;
  const r = await request(gw.url('/api/users/7'), {
    headers: {
      host: 'api.example.com',
      connection: 'keep-alive, x-private',
      'x-private': 'drop me',
      'keep-alive': 'timeout=1',
      te: 'trailers',
      'proxy-authorization': 'Basic abc',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-kept': 'yes',
      via: '1.0 edge',
    },
  });
  assert.equal(r.status, 200);
  const seen = a.seen[before].headers;
  assert.equal(seen.host, 'api.example.com');
  assert.equal(seen['x-private'], undefined);
  assert.equal(seen['keep-alive'], undefined);
  assert.equal(seen.te, undefined);
  assert.equal(seen['proxy-authorization'], undefined);
  assert.equal(seen['x-kept'], 'yes');
  assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'no trusted_proxies: the client-sent X-Forwarded-For is replaced by the peer');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-host'], 'api.example.com');
  assert.equal(seen.via, '1.0 edge, 1.1 sluice');
  assert.match(seen['x-request-id'] as string, /^[0-9a-f-]{36}$/);
  assert.equal(r.headers['x-request-id'], seen['x-request-id']);
});

test('an incoming X-Request-Id is kept end to end', async () => {
  const r = await request(gw.url('/api/users/7'), { headers: { host: 'api.example.com', 'x-request-id': 'trace-me-123' } });
  assert.equal(r.headers['x-request-id'], 'trace-me-123');
  assert.equal(json(r).headers['x-request-id'], 'trace-me-123');
});

test('preserve_host: false sends the endpoint host', async () => {
  const r = await request(gw.url('/own-host'));
  assert.equal(json(r).headers.host, `127.0.0.1:${a.port}`);
});

test('response header hygiene: hop-by-hop and Connection-named headers dropped, Set-Cookie kept whole', async () => {
  const r = await request(gw.url('/b/x'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b:/b/x');
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r.headers['x-hop'], undefined);
  assert.equal(r.headers['keep-alive'], undefined);
  assert.equal(r.headers['x-kept-ali'], 'same length as Keep-Alive');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['x-colon'], 'a: b');
  assert.equal(r.headers.via, '1.0 origin, 1.1 sluice');
  assert.notEqual(r.headers['x-request-id'], 'upstream-made-this');
  assert.notEqual(r.headers.date, 'Mon, 01 Jan 2001 00:00:00 GMT');
});

test('POST bodies are forwarded with their length', async () => {
  const body = 'x'.repeat(100_000);
  const r = await request(gw.url('/api/users/1'), { method: 'POST', headers: { host: 'api.example.com', 'content-type': 'text/plain' }, body });
  assert.equal(r.status, 200);
  assert.equal(json(r).bytes, body.length);
  assert.equal(json(r).headers['content-length'], String(body.length));
});

test('HEAD, 204 and 304 responses carry no body', async () => {
  const r = await request(gw.url('/api/users/1'), { method: 'HEAD', headers: { host: 'api.example.com' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
});

test('a HEAD answer ends: the next request on the connection is answered (proxied and local answers)', async () => {
  const head = (method: string, path: string, host = 'api.example.com') => `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  // uWS 20.30's endWithoutBody(length) left the response pending: the next request was closed unanswered.
  const proxied = await rawTurns(gw.port, [head('HEAD', '/api/users/1'), head('GET', '/api/users/2')]);
  assert.deepEqual(statuses(proxied.text), [200, 200], proxied.text);
  assert.match(proxied.text, /"url":"\/users\/2"/);
  // The GET would be chunked: the HEAD answer announces no length (it said 2^63 before).
  assert.doesNotMatch(proxied.text.slice(0, proxied.text.indexOf('\r\n\r\n')), /content-length/i);
  // A local answer to HEAD announces its length and sends no body (the JSON would be read as the next answer).
  const local = await rawTurns(gw.port, [head('HEAD', '/nowhere', 'other.example.org'), head('GET', '/api/users/3')]);
  assert.deepEqual(statuses(local.text), [404, 200], local.text);
  assert.ok(!local.text.includes('SLUICE_ERR_ROUTE_NOT_FOUND'), 'no body after a HEAD answer');
  assert.match(local.text, /^content-length: [1-9]/im);
});

test('the access log has one line per request with the fields and no credentials', async () => {
  const r = await request(gw.url('/api/users/9?token=s3cret&page=2'), {
    headers: { host: 'api.example.com', authorization: 'Bearer TOPSECRET', cookie: 'sid=COOKIESECRET' },
  });
  const id = r.headers['x-request-id'];
  const line = await gw.waitForLog((l) => l.type === 'access' && l.request_id === id);
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/api/users/9');
  assert.equal(line.query, 'token=[redacted]&page=2');
  assert.equal(line.route, 'users');
  assert.equal(line.upstream, 'a');
  assert.equal(line.status, 200);
  assert.ok(line.bytes > 0);
  assert.equal(typeof line.duration_ms, 'number');
  const all = JSON.stringify(gw.logs);
  assert.ok(!all.includes('TOPSECRET') && !all.includes('COOKIESECRET') && !all.includes('s3cret'));
  assert.equal(gw.logs.filter((l) => l.request_id === id && l.type === 'access').length, 1);
});
