import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

/**
 * `ip:` through 2 worker threads. The gateway trusts 127.0.0.0/8, so each test chooses its client
 * address with X-Forwarded-For (the only way to be someone else than 127.0.0.1 here).
 */
let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  gw = await startGateway(`
trusted_proxies: [127.0.0.0/8]
ip: { deny: [198.51.100.0/24, "2001:db8:bad::/48"] }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: admin
    match: { prefix: /admin/ }
    upstream: up
    ip: { allow: [10.0.0.0/8, "2001:db8::/32"], deny: [10.6.6.0/24] }
  - name: local
    match: { prefix: /local/ }
    upstream: up
    ip: { allow: ["::ffff:127.0.0.0/104"] }
  - name: fixed
    match: { prefix: /fixed }
    respond: { status: 200, body: fixed }
  - name: open
    match: { prefix: /open/ }
    upstream: up
`);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

const from = (client: string, path: string) => request(gw.url(path), { headers: { 'x-forwarded-for': client } });

test('a route allow list lets its ranges pass and denies the rest with 403 SLUICE_ERR_IP_DENIED', async () => {
  assert.equal((await from('10.1.2.3', '/admin/x')).status, 200);
  assert.equal((await from('2001:db8::7', '/admin/x')).status, 200);
  const denied = await from('203.0.113.5', '/admin/x');
  assert.equal(denied.status, 403);
  assert.equal(json(denied).error.code, 'SLUICE_ERR_IP_DENIED');
  assert.ok(json(denied).error.request_id);
  assert.equal((await from('10.6.6.6', '/admin/x')).status, 403, 'deny wins over allow');
});

test('a denied request never reaches the upstream', async () => {
  const before = up.seen.length;
  assert.equal((await from('203.0.113.5', '/admin/y')).status, 403);
  assert.equal(up.seen.length, before);
});

test('the top-level policy applies to every route, to respond: routes and to requests that match no route', async () => {
  assert.equal((await from('203.0.113.5', '/open/x')).status, 200);
  for (const path of ['/open/x', '/admin/x', '/fixed', '/nowhere']) {
    const r = await from('198.51.100.9', path);
    assert.equal(r.status, 403, path);
    assert.equal(json(r).error.code, 'SLUICE_ERR_IP_DENIED', path);
  }
  assert.equal((await from('2001:db8:bad::1', '/open/x')).status, 403);
  assert.equal((await from('203.0.113.5', '/nowhere')).status, 404, 'an allowed client still gets 404 for no route');
});

test('a mapped IPv4 range matches the IPv4 socket peer', async () => {
  assert.equal((await request(gw.url('/local/x'))).status, 200);
  assert.equal((await from('203.0.113.5', '/local/x')).status, 403);
});
