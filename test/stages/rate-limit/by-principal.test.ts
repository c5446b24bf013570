import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

/** Limits keyed by the principal auth: set (jwt:sub, jwt:CLAIM, api_key), through 2 worker threads. */
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const sign = createSigner({ key: SECRET, algorithm: 'HS256' });
const sha = (k: string) => `sha256:${createHash('sha256').update(k).digest('hex')}`;

let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: per-user
    match: { prefix: /user }
    upstream: up
    auth: { jwt: { algorithms: [HS256], keys: [ { secret: "${SECRET}" } ] } }
    rate_limit: [ { name: user, key: "jwt:sub", rate: 1, per: 1h, burst: 2 } ]
  - name: per-tenant
    match: { prefix: /tenant }
    upstream: up
    auth: { jwt: { algorithms: [HS256], keys: [ { secret: "${SECRET}" } ] } }
    rate_limit: [ { name: tenant, key: "jwt:tenant", rate: 1, per: 1h, burst: 3 } ]
  - name: per-key
    match: { prefix: /key }
    upstream: up
    auth: { api_key: { keys: [ { id: k1, hash: "${sha('one')}" }, { id: k2, hash: "${sha('two')}" } ] } }
    rate_limit: [ { name: key, key: api_key, rate: 1, per: 1h, burst: 2 } ]
`);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

async function statuses(path: string, headers: () => Record<string, string>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(gw.url(path), { headers: headers() })).status);
  return out;
}

test('key jwt:sub: each subject has its own budget, whichever token (and worker) it comes with', async () => {
  // A new token per request: the budget follows the subject, not the token text.
  const as = (sub: string) => () => ({ authorization: `Bearer ${sign({ sub, jti: Math.random().toString(36) })}` });
  assert.deepEqual(await statuses('/user', as('carol'), 4), [200, 200, 429, 429]);
  assert.deepEqual(await statuses('/user', as('dave'), 3), [200, 200, 429]);
});

test('key jwt:CLAIM: users of one tenant share its budget', async () => {
  const as = (sub: string, tenant: string) => () => ({ authorization: `Bearer ${sign({ sub, tenant })}` });
  assert.deepEqual(await statuses('/tenant', as('u1', 'acme'), 2), [200, 200]);
  assert.deepEqual(await statuses('/tenant', as('u2', 'acme'), 2), [200, 429]);
  assert.deepEqual(await statuses('/tenant', as('u3', 'globex'), 1), [200]);
});

test('key api_key: each key id has its own budget', async () => {
  assert.deepEqual(await statuses('/key', () => ({ 'x-api-key': 'one' }), 3), [200, 200, 429]);
  assert.deepEqual(await statuses('/key', () => ({ 'x-api-key': 'two' }), 3), [200, 200, 429]);
});
