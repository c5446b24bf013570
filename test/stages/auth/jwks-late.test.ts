import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * A JWKS host that is down when the gateway starts: its keys must be used within seconds of it
 * coming back, not after min_cache_s (30 s here, the default).
 */
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kidless = createSigner({ key: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'ES256', expiresIn: 600_000 })({ sub: 'x' });
const token = createSigner({ key: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'ES256', kid: 'k1', expiresIn: 600_000 })({
  sub: 'late',
});

const SECRET = 'a-static-secret-that-is-at-least-32-bytes';
const hsToken = createSigner({ key: SECRET, algorithm: 'HS256', kid: 'static', expiresIn: 600_000 })({ sub: 'static' });

let up = false;
let fetches = 0;
let server: Server;
let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  server = createServer((_req, res) => {
    fetches++;
    if (!up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(
      JSON.stringify({
        keys: [
          { ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' },
          { ...ec2.publicKey.export({ format: 'jwk' }), kid: 'k2', alg: 'ES256', use: 'sig' },
        ],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upstream = await startUpstream();
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${upstream.origin}" } ] }
routes:
  - name: late
    match: { prefix: /late }
    upstream: up
    auth: { jwt: { algorithms: [ES256], jwks_url: "http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json" } }
  - name: mixed
    match: { prefix: /mixed }
    upstream: up
    auth:
      jwt:
        algorithms: [ES256, HS256]
        keys: [ { kid: static, secret: "${SECRET}" } ]
        jwks_url: "http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json"
`);
});
after(async () => {
  await gw?.stop();
  await upstream?.close();
  server.closeAllConnections();
  server.close();
});

test('a JWKS host down at start: 503 meanwhile (static keys still work), its keys used within seconds once it is back', async () => {
  await gw.waitForLog((l) => l.msg === 'JWKS fetch failed; no keys yet' && l.code === 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE');
  const r = await request(gw.url('/late/a'), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 503);
  assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE');
  // Static keys beside the JWKS: they work meanwhile; a kid they do not have may be in the JWKS, so 503.
  const staticOk = await request(gw.url('/mixed/a'), { headers: { authorization: `Bearer ${hsToken}` } });
  assert.equal(staticOk.status, 200, staticOk.body);
  const notYet = await request(gw.url('/mixed/a'), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(notYet.status, 503, notYet.body);
  assert.equal(json(notYet).error.code, 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE');
  await new Promise((res) => setTimeout(res, 2500));
  up = true;
  const back = performance.now();
  await waitFor(async () => (await request(gw.url('/late/a'), { headers: { authorization: `Bearer ${token}` } })).status === 200, 'the late JWKS used', 6000);
  assert.ok(performance.now() - back < 6000);
  await waitFor(
    async () => (await request(gw.url('/mixed/a'), { headers: { authorization: `Bearer ${token}` } })).status === 200,
    'the JWKS key beside static ones',
    6000,
  );
  assert.ok(fetches < 10, `the backoff keeps fetches few (${fetches})`);
});

test('a token without a kid is refused when several JWKS keys could verify it (one check per key otherwise)', async () => {
  await waitFor(async () => (await request(gw.url('/late/a'), { headers: { authorization: `Bearer ${token}` } })).status === 200, 'the JWKS arrived');
  const r = await request(gw.url('/late/a'), { headers: { authorization: `Bearer ${kidless}` } });
  assert.equal(r.status, 401, r.body);
  assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_TOKEN');
  assert.match(String(r.headers['www-authenticate']), /error_description="the token names no key id and several JWKS keys could verify it"/);
});
