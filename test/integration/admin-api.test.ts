import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { startUpstream } from '../helpers/upstream.js';

// GET /config, GET /routes and GET / on a real gateway: behind the admin token, secrets redacted,
// routes in match order, and /config following reloads.

const TOKEN = 'admin-token-for-the-admin-api-test';
const JWT_SECRET = 'jwt-hmac-secret-that-is-at-least-32-bytes-long';
const API_KEY_HASH = `sha256:${createHash('sha256').update('the-api-key-itself').digest('hex')}`;
const REDIS_PASSWORD = 'redis-password-in-the-url';
const HEADER_SECRET = 'Bearer upstream-credential-set-by-a-headers-stage';
const MATCHED_KEY = 'a-key-a-route-matches-on';
const SECRETS = [TOKEN, JWT_SECRET, API_KEY_HASH, API_KEY_HASH.slice(7), REDIS_PASSWORD, HEADER_SECRET, MATCHED_KEY];

const configYaml = (upstream: string, extraRoute = '') => `
admin: { token: "${TOKEN}" }
rate_limits: { redis: { url: "redis://sluice:${REDIS_PASSWORD}@127.0.0.1:1/0" } }
upstreams:
  app: { endpoints: [ { url: "${upstream}" } ] }
routes:
  - { name: catch-all, match: { prefix: "/" }, upstream: app }
  - name: jwt
    match: { prefix: "/jwt/" }
    upstream: app
    auth: { jwt: { algorithms: [HS256], keys: [ { kid: k1, secret: "${JWT_SECRET}" } ] } }
  - name: keyed
    match: { path: "/keyed/:id", methods: [GET] }
    upstream: app
    auth: { api_key: { keys: [ { id: ops, hash: "${API_KEY_HASH}" } ] } }
    headers: { request: { set: { authorization: "${HEADER_SECRET}", x-tenant: blue } } }
  - { name: matched-key, match: { path: "/m", headers: { x-api-key: "${MATCHED_KEY}" } }, upstream: app }
  - { name: hello, match: { path: "/hello" }, respond: { body: hi } }
${extraRoute}`;

const admin = (gw: TestGateway, path: string, token?: string) =>
  request(`http://127.0.0.1:${gw.adminPort}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

test('GET /config and GET /routes need the token; /config redacts every secret; /routes is in match order', async () => {
  const up = await startUpstream();
  const gw = await startGateway(configYaml(up.origin), { SLUICE_WORKERS: '1' });
  try {
    for (const path of ['/config', '/routes']) {
      const r = await admin(gw, path);
      assert.equal(r.status, 401, path);
      assert.equal(json(r).error.code, 'SLUICE_ERR_ADMIN_UNAUTHORIZED');
      assert.equal((await admin(gw, path, 'wrong-token-0123456789')).status, 401, path);
    }

    const config = await admin(gw, '/config', TOKEN);
    assert.equal(config.status, 200, config.body);
    assert.equal(config.headers['content-type'], 'application/json');
    for (const s of SECRETS) assert.ok(!config.body.includes(s), `a secret appears in GET /config: ${s}`);
    const c = json(config);
    assert.equal(c.generation, 1);
    assert.equal(c.file, gw.configFile);
    assert.equal(c.last_reload, null);
    assert.equal(c.config.admin.token, '[redacted]');
    assert.equal(c.config.rate_limits.redis.url, 'redis://sluice:[redacted]@127.0.0.1:1/0');
    const keyed = c.config.routes.find((r: any) => r.name === 'keyed');
    assert.equal(keyed.headers.request.set.authorization, '[redacted]');
    assert.equal(keyed.headers.request.set['x-tenant'], 'blue', 'values that are not credentials stay');
    assert.equal(keyed.auth.api_key.keys[0].id, 'ops');
    assert.equal(c.config.upstreams.app.endpoints[0].url, up.origin);
    assert.equal(c.config.timeouts.connect_ms, 2000, 'the validated config, defaults filled in');

    const routes = await admin(gw, '/routes', TOKEN);
    assert.equal(routes.status, 200, routes.body);
    assert.ok(!routes.body.includes(MATCHED_KEY));
    const table = json(routes);
    assert.deepEqual(
      table.routes.map((r: any) => r.name),
      ['hello', 'keyed', 'matched-key', 'jwt', 'catch-all'],
      'full paths first, then prefixes longest first; config order only breaks ties',
    );
    const k = table.routes.find((r: any) => r.name === 'keyed');
    assert.deepEqual(k.stages, ['auth', 'headers']);
    assert.equal(k.match.path, '/keyed/:id');
    assert.deepEqual(k.match.methods, ['GET']);
    assert.equal(k.upstream, 'app');
    assert.equal(table.routes.find((r: any) => r.name === 'hello').upstream, null);
    // The data plane agrees: these full paths win over the catch-all prefix.
    assert.equal((await request(gw.url('/hello'))).body, 'hi');
    assert.equal((await request(gw.url('/m'), { headers: { 'x-api-key': MATCHED_KEY } })).status, 200);

    for (const s of SECRETS) assert.ok(!(JSON.stringify(gw.logs) + gw.stderr.join('')).includes(s), `a secret was logged: ${s}`);
  } finally {
    assert.equal(await gw.stop(), 0);
    await up.close();
  }
});

test('GET /config follows reloads: the new config and generation, and a rejected reload is reported without its content', async () => {
  const up = await startUpstream();
  const gw = await startGateway(configYaml(up.origin), { SLUICE_WORKERS: '1' });
  try {
    writeFileSync(gw.configFile, configYaml(up.origin, '  - { name: added, match: { path: "/added" }, respond: { body: new } }\n'));
    const ok = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, ok.body);
    let c = json(await admin(gw, '/config', TOKEN));
    assert.equal(c.generation, 2);
    assert.ok(c.config.routes.some((r: any) => r.name === 'added'));
    assert.equal(c.last_reload.result, 'ok');
    assert.equal(c.last_reload.source, 'admin');
    assert.equal(c.last_reload.generation, 2);
    assert.ok(json(await admin(gw, '/routes', TOKEN)).routes.some((r: any) => r.name === 'added'));

    writeFileSync(gw.configFile, `${configYaml(up.origin)}  - { name: broken, match: { path: "/b" }, upstream: nowhere }\n`);
    const bad = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bad.status, 400);
    c = json(await admin(gw, '/config', TOKEN));
    assert.equal(c.generation, 2, 'the running config stays');
    assert.ok(
      c.config.routes.some((r: any) => r.name === 'added'),
      'still the config in force',
    );
    assert.deepEqual(
      { result: c.last_reload.result, code: c.last_reload.code, problems: c.last_reload.problems },
      { result: 'failed', code: 'SLUICE_ERR_CONFIG_INVALID', problems: 1 },
    );
  } finally {
    assert.equal(await gw.stop(), 0);
    await up.close();
  }
});

test('GET / serves the dashboard page without the token; it holds no data and loads nothing from elsewhere', async () => {
  const up = await startUpstream();
  const gw = await startGateway(configYaml(up.origin), { SLUICE_WORKERS: '1' });
  try {
    const page = await admin(gw, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.match(page.body, /<title>sluice dashboard<\/title>/);
    assert.doesNotMatch(page.body, /https?:\/\//, 'no CDN, no external URL');
    for (const s of SECRETS) assert.ok(!page.body.includes(s));
    assert.ok(!page.body.includes('catch-all'), 'no data in the page itself: it fetches it with the token');
  } finally {
    assert.equal(await gw.stop(), 0);
    await up.close();
  }
});

test('HEAD answers as GET without a body; a method an endpoint does not answer gets 405 with Allow', async () => {
  const up = await startUpstream();
  const gw = await startGateway(configYaml(up.origin), { SLUICE_WORKERS: '1' });
  const at = (path: string, method: string) => request(`http://127.0.0.1:${gw.adminPort}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  try {
    for (const path of ['/config', '/routes', '/upstreams', '/workers', '/metrics']) {
      const head = await at(path, 'HEAD');
      assert.equal(head.status, 200, `HEAD ${path}`);
      assert.equal(head.body, '');
      assert.ok(Number(head.headers['content-length']) > 0, `HEAD ${path} says how long the GET is`);
    }
    for (const [path, method, allow] of [
      ['/config', 'DELETE', 'GET, HEAD'],
      ['/metrics', 'POST', 'GET, HEAD'],
      ['/reload', 'GET', 'POST'],
    ]) {
      const r = await at(path, method);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, allow);
      assert.equal(json(r).error.code, 'SLUICE_ERR_ADMIN_METHOD');
    }
    assert.equal((await request(`http://127.0.0.1:${gw.adminPort}/config`, { method: 'DELETE' })).status, 401, 'no token: nothing is said about methods');
    assert.equal((await at('/nothing-here', 'GET')).status, 404);
  } finally {
    assert.equal(await gw.stop(), 0);
    await up.close();
  }
});
