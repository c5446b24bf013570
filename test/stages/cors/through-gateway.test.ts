import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

/** `cors:` through 2 worker threads and a real upstream that records what reaches it. */
let up: TestUpstream;
let gw: TestGateway;
const APP = 'https://app.example.com';

before(async () => {
  up = await startUpstream((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (req.url?.startsWith('/api/vary-encoding')) headers.vary = 'Accept-Encoding';
    if (req.url?.startsWith('/api/vary-origin')) headers.vary = 'origin';
    if (req.url?.includes('/own-cors')) {
      headers['access-control-allow-origin'] = '*';
      headers['access-control-allow-credentials'] = 'true';
      headers['access-control-expose-headers'] = 'x-secret';
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify({ method: req.method, headers: req.headers }));
  });
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: api
    match: { prefix: /api/, methods: [GET, PUT] }
    upstream: up
    cors:
      origins: ["${APP}", "http://localhost:3000"]
      methods: [GET, PUT]
      headers: [content-type, authorization]
      expose_headers: [x-upstream-id]
      credentials: true
      max_age: 120
  - name: public
    match: { prefix: /public/ }
    upstream: up
    cors: { origins: "*" }
  - name: keyed
    match: { prefix: /keyed/ }
    upstream: up
    cors: { origins: ["${APP}"], credentials: true }
    auth: { api_key: { keys: [ { id: app, hash: "sha256:${'0'.repeat(64)}" } ] } }
`);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

const preflight = (path: string, headers: Record<string, string>) => request(gw.url(path), { method: 'OPTIONS', headers });

test('a preflight is answered by the gateway with 204 and the allow headers, on a route restricted to GET and PUT', async () => {
  const before = up.seen.length;
  const r = await preflight('/api/items', {
    origin: APP,
    'access-control-request-method': 'PUT',
    'access-control-request-headers': 'Content-Type, Authorization',
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers['access-control-allow-origin'], APP);
  assert.equal(r.headers['access-control-allow-methods'], 'GET, PUT');
  assert.equal(r.headers['access-control-allow-headers'], 'content-type, authorization');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-max-age'], '120');
  assert.match(String(r.headers.vary), /^Origin, Access-Control-Request-Method/);
  assert.equal(up.seen.length, before, 'the preflight never reached the upstream');
});

test('a preflight for a disallowed origin, method or header gets 403 SLUICE_ERR_CORS_REJECTED naming it', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ origin: 'https://evil.example.com', 'access-control-request-method': 'GET' }, /origin "https:\/\/evil\.example\.com"/],
    [{ origin: APP, 'access-control-request-method': 'DELETE' }, /method "DELETE"/],
    [{ origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type, x-secret' }, /header "x-secret"/],
  ];
  for (const [headers, why] of cases) {
    const r = await preflight('/api/items', headers);
    assert.equal(r.status, 403);
    assert.equal(json(r).error.code, 'SLUICE_ERR_CORS_REJECTED');
    assert.match(json(r).error.message, why);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  }
});

test('an OPTIONS that is not a preflight on a route without OPTIONS in its methods is 404 (it does not fall through to another route)', async () => {
  const r = await request(gw.url('/api/items'), { method: 'OPTIONS' });
  assert.equal(r.status, 404);
  assert.equal(json(r).error.code, 'SLUICE_ERR_ROUTE_NOT_FOUND');
});

test('an actual request from an allowed origin gets the exact origin, credentials, expose headers and Vary: Origin', async () => {
  const r = await request(gw.url('/api/items'), { headers: { origin: 'http://localhost:3000' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'http://localhost:3000');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-expose-headers'], 'x-upstream-id');
  assert.equal(r.headers.vary, 'Origin');
  assert.equal(json(r).headers.origin, 'http://localhost:3000', 'the upstream sees the Origin');
});

test("Vary: Origin joins the upstream's Vary, and is not repeated when the upstream already varies by origin", async () => {
  const a = await request(gw.url('/api/vary-encoding'), { headers: { origin: APP } });
  assert.equal(a.headers.vary, 'Accept-Encoding, Origin');
  const b = await request(gw.url('/api/vary-origin'), { headers: { origin: APP } });
  assert.equal(b.headers.vary, 'origin');
});

test('an actual request from another origin, or none, goes through without allow headers (the browser blocks the read)', async () => {
  const r = await request(gw.url('/api/items'), { headers: { origin: 'https://evil.example.com' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(r.headers.vary, 'Origin', 'the answer still varies by Origin for caches');
  const none = await request(gw.url('/api/items'));
  assert.equal(none.headers['access-control-allow-origin'], undefined);
});

test("the route's cors: replaces the upstream's own CORS headers, so they cannot let in an origin it refuses", async () => {
  const evil = await request(gw.url('/api/own-cors'), { headers: { origin: 'https://evil.example.com' } });
  assert.equal(evil.status, 200);
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
  assert.equal(evil.headers['access-control-allow-credentials'], undefined);
  assert.equal(evil.headers['access-control-expose-headers'], undefined);
  const app = await request(gw.url('/api/own-cors'), { headers: { origin: APP } });
  assert.equal(app.headers['access-control-allow-origin'], APP);
  assert.equal(app.headers['access-control-expose-headers'], 'x-upstream-id');
  const open = await request(gw.url('/public/own-cors'), { headers: { origin: 'https://any.example' } });
  assert.equal(open.headers['access-control-allow-origin'], '*');
  assert.equal(open.headers['access-control-allow-credentials'], undefined, 'origins "*" never allows credentials');
});

test('origins "*" answers any origin with *, and no Vary: Origin', async () => {
  const p = await preflight('/public/x', { origin: 'https://any.example', 'access-control-request-method': 'POST' });
  assert.equal(p.status, 204);
  assert.equal(p.headers['access-control-allow-origin'], '*');
  assert.equal(p.headers['access-control-allow-credentials'], undefined);
  const r = await request(gw.url('/public/x'), { headers: { origin: 'https://any.example' } });
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(r.headers.vary, undefined);
  const plain = await request(gw.url('/public/x'), { method: 'OPTIONS' });
  assert.equal(json(plain).method, 'OPTIONS', 'a route matching any method forwards a plain OPTIONS');
});

test("a later stage's refusal (auth's 401) carries the allow headers, so the browser lets the script read it", async () => {
  const r = await request(gw.url('/keyed/x'), { headers: { origin: APP } });
  assert.equal(r.status, 401);
  assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_MISSING');
  assert.equal(r.headers['access-control-allow-origin'], APP);
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers.vary, 'Origin');
  assert.match(String(r.headers['www-authenticate']), /^Bearer|^ApiKey|realm/i, 'the refusal keeps its own headers');
  const other = await request(gw.url('/keyed/x'), { headers: { origin: 'https://evil.example.com' } });
  assert.equal(other.status, 401);
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const asked = await preflight('/keyed/x', { origin: APP, 'access-control-request-method': 'GET' });
  assert.equal(asked.status, 204, 'a preflight needs no key: cors answers it before auth');
});
