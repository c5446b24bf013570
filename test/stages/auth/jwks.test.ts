import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * JWKS fetched by the primary from a real HTTP server and published to 2 worker threads: rotation
 * through the unknown-kid signal, stale keys while the host is down, and what a JWKS may not carry.
 */
const ec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa3 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SYM = 'a-symmetric-secret-that-is-at-least-32-bytes';

const jwk = (k: KeyObject, kid: string, alg: string) => ({ ...k.export({ format: 'jwk' }), kid, alg, use: 'sig' });
const sign = (key: KeyObject, algorithm: 'ES256' | 'RS256', kid: string) =>
  createSigner({ key: key.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm, kid, expiresIn: 600_000 })({ sub: kid });

let jwks: { keys: object[] } = { keys: [jwk(ec1.publicKey, 'k1', 'ES256'), { kty: 'oct', kid: 'sym', k: Buffer.from(SYM).toString('base64url') }] };
let fetches = 0;
let shortFetches = 0;
let server: Server;
let jwksUrl: string;
let gw: TestGateway;
let upUrl: string;
let upServer: Server;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/short.json') {
      shortFetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=1' });
      res.end(JSON.stringify({ keys: [jwk(ec1.publicKey, 'k1', 'ES256')] }));
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  upServer = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upServer.listen(0, '127.0.0.1', r));
  upUrl = `http://127.0.0.1:${(upServer.address() as AddressInfo).port}`;
  gw = await startGateway(`
jwks: { min_cache_s: 1, unknown_kid_refresh_s: 1, timeout_ms: 500 }
upstreams:
  up: { endpoints: [ { url: "${upUrl}" } ] }
routes:
  - name: jwks
    match: { prefix: /jwks }
    upstream: up
    auth: { jwt: { algorithms: [ES256, RS256, HS256], jwks_url: "${jwksUrl}" } }
  - name: short
    match: { prefix: /short }
    upstream: up
    auth: { jwt: { algorithms: [ES256], jwks_url: "${jwksUrl.replace('/jwks.json', '/short.json')}" } }
  - name: nowhere
    match: { prefix: /nowhere }
    upstream: up
    auth: { jwt: { algorithms: [ES256], jwks_url: "http://127.0.0.1:1/jwks.json" } }
`);
});
after(async () => {
  await gw?.stop();
  server.closeAllConnections();
  server.close();
  upServer.close();
});

const call = (path: string, token: string) => request(gw.url(path), { headers: { authorization: `Bearer ${token}` } });

test('keys from the JWKS verify in both workers', async () => {
  const t1 = sign(ec1.privateKey, 'ES256', 'k1');
  await waitFor(async () => (await call('/jwks/a', t1)).status === 200, 'the JWKS is fetched and published');
  for (let i = 0; i < 6; i++) assert.equal((await call('/jwks/a', t1)).status, 200);
  assert.equal(fetches, 1, 'fetched once, by the primary, not per worker');
});

test('a symmetric (oct) key in a JWKS is never used: an HS256 token signed with it is refused', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'sym' })).toString('base64url');
  const body = Buffer.from(JSON.stringify({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
  const forged = `${header}.${body}.${createHmac('sha256', SYM).update(`${header}.${body}`).digest('base64url')}`;
  const r = await call('/jwks/a', forged);
  assert.equal(r.status, 401);
  assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_TOKEN');
});

test('rotation: a new kid is fetched on its first use (the JWKS max-age is an hour) and then accepted', async () => {
  const before = fetches;
  jwks = { keys: [jwk(ec1.publicKey, 'k1', 'ES256'), jwk(ec2.publicKey, 'k2', 'ES256'), jwk(rsa3.publicKey, 'k3', 'RS256')] };
  const t2 = sign(ec2.privateKey, 'ES256', 'k2');
  const t3 = sign(rsa3.privateKey, 'RS256', 'k3');
  await waitFor(async () => (await call('/jwks/a', t2)).status === 200, 'k2 accepted after the refetch', 8000);
  assert.equal((await call('/jwks/a', t3)).status, 200);
  assert.ok(fetches > before && fetches <= before + 3, `refetched on the unknown kid, rate-limited (${fetches - before} fetches)`);
  // Unknown kids in a burst do not become a burst of fetches: at most one per unknown_kid_refresh_s.
  const burstStart = fetches;
  const started = Date.now();
  for (let i = 0; i < 30; i++) assert.equal((await call('/jwks/a', sign(ec2.privateKey, 'ES256', `ghost${i}`))).status, 401);
  await new Promise((r) => setTimeout(r, 300));
  const seconds = (Date.now() - started) / 1000;
  assert.ok(fetches - burstStart <= Math.ceil(seconds) + 1, `${fetches - burstStart} fetches for 30 unknown kids in ${seconds} s`);
});

test('a JWKS is fetched again when its Cache-Control max-age runs out (here 1 s, jwks.min_cache_s 1)', async () => {
  await waitFor(() => shortFetches >= 1, 'first fetch');
  const first = shortFetches;
  const started = Date.now();
  await waitFor(() => shortFetches >= first + 2, 'two refetches', 6000);
  assert.ok(Date.now() - started >= 1000, 'not before max-age');
  assert.equal(fetches > 0, true);
});

test('JWKS host down: the last keys stay in force (stale), and the failure is logged', async () => {
  const t1 = sign(ec1.privateKey, 'ES256', 'k1');
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  // Unknown kids make the primary try (and fail) to fetch again, once the cool-down allows.
  const failed = (l: Record<string, any>) => l.msg === 'JWKS fetch failed; the last keys stay in force' && l.url === jwksUrl;
  await waitFor(
    async () => {
      assert.equal((await call('/jwks/a', sign(ec1.privateKey, 'ES256', 'k9'))).status, 401);
      return gw.logs.some(failed);
    },
    'a failed refetch logged',
    8000,
  );
  assert.equal(gw.logs.find(failed)!.code, 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE');
  for (let i = 0; i < 4; i++) assert.equal((await call('/jwks/a', t1)).status, 200, 'stale keys still verify');
});

test('a JWKS never fetched: 503 keys unavailable (not a 401: the caller did nothing wrong)', async () => {
  const r = await call('/nowhere/a', sign(ec1.privateKey, 'ES256', 'k1'));
  assert.equal(r.status, 503);
  assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE');
  assert.equal(r.headers['www-authenticate'], undefined);
  await gw.waitForLog((l) => l.msg === 'JWKS fetch failed; no keys yet' && l.url === 'http://127.0.0.1:1/jwks.json');
});
