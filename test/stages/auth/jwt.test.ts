import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { waitFor } from '../../helpers/wait.js';

/** Bearer JWTs with static keys through the real data plane: 2 worker threads, a real upstream. */
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const rsaPrivatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const now = () => Math.floor(Date.now() / 1000);

const hs = (payload: Record<string, unknown>, kid = 'hs1', key = SECRET) =>
  createSigner({ key, algorithm: 'HS256', kid, noTimestamp: !('iat' in payload) })(payload);
const rs = (payload: Record<string, unknown>, kid = 'rs1') =>
  createSigner({ key: rsaPrivatePem, algorithm: 'RS256', kid, noTimestamp: !('iat' in payload) })(payload);
const good = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iss: 'https://issuer.test', aud: 'api', exp: now() + 600, ...extra });
const bearer = (token: string, more: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${token}`, ...more } });

/** A JWS signed by hand: what an attacker can make without any library's guard rails. */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>, hmacKey: string | null): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return hmacKey === null ? `${input}.` : `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

let up: TestUpstream;
let gw: TestGateway;
const tokensSent: string[] = [];

before(async () => {
  up = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-auth-'));
  const pemFile = join(dir, 'rs1.pem');
  writeFileSync(pemFile, rsaPublicPem);
  gw = await startGateway(
    `
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: hs
    match: { prefix: /hs }
    upstream: up
    auth:
      jwt:
        algorithms: [HS256]
        keys: [ { kid: hs1, secret_env: TEST_JWT_SECRET } ]
        issuer: https://issuer.test
        audience: [api, other]
        forward_claims: { sub: x-user-id, email: x-user-email }
        strip_authorization: true
  - name: rs
    match: { prefix: /rs }
    upstream: up
    auth: { jwt: { algorithms: [RS256], keys: [ { kid: rs1, pem_file: "${pemFile}" } ] } }
  - name: mixed
    match: { prefix: /mixed }
    upstream: up
    auth:
      jwt:
        algorithms: [RS256, HS256]
        keys: [ { kid: rs1, pem_file: "${pemFile}" }, { kid: hs1, secret_env: TEST_JWT_SECRET } ]
        forward_claims: { constructor: x-ctor, toString: x-to-string, sub: x-sub }
  - name: scoped
    match: { prefix: /scoped }
    upstream: up
    auth: { jwt: { algorithms: [HS256], keys: [ { kid: hs1, secret_env: TEST_JWT_SECRET } ], scopes: { all: [read, write] } } }
  - name: young
    match: { prefix: /young }
    upstream: up
    auth: { jwt: { algorithms: [HS256], keys: [ { kid: hs1, secret_env: TEST_JWT_SECRET } ], max_age_s: 60, clock_skew_s: 0 } }
`,
    { TEST_JWT_SECRET: SECRET },
  );
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

async function get(path: string, token: string | null, more: Record<string, string> = {}) {
  if (token !== null) tokensSent.push(token);
  return request(gw.url(path), token === null ? { headers: more } : bearer(token, more));
}

function assertRefused(r: Awaited<ReturnType<typeof get>>, status: number, code: string, challenge: RegExp) {
  assert.equal(r.status, status, r.body);
  assert.equal(json(r).error.code, code);
  assert.match(String(r.headers['www-authenticate']), challenge);
}

test('a good HS256 token passes: claims forwarded, client-sent copies of those headers removed, Authorization stripped', async () => {
  const before = up.seen.length;
  const r = await get('/hs/a', hs(good()), { 'x-user-id': 'admin', 'x-user-email': 'evil@example.com' });
  assert.equal(r.status, 200, r.body);
  const seen = up.seen[before];
  assert.equal(seen.headers['x-user-id'], 'alice', 'the verified sub, not the spoofed value');
  assert.equal(seen.headers['x-user-email'], undefined, 'the token has no email claim: the spoofed header is dropped, not passed');
  assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-user-id').length, 1);
  assert.equal(seen.headers.authorization, undefined, 'strip_authorization');
  // Served from the verified-token cache the second time: same answer.
  const again = await get('/hs/a', hs(good()), { 'x-user-id': 'admin' });
  assert.equal(again.status, 200);
  assert.equal(up.seen.at(-1)!.headers['x-user-id'], 'alice');
});

test('no credentials: 401 with a bare Bearer challenge naming the realm (RFC 6750 §3)', async () => {
  assertRefused(await get('/hs/a', null), 401, 'SLUICE_ERR_AUTH_MISSING', /^Bearer realm="hs"$/);
  assertRefused(await get('/hs/a', null, { authorization: 'Basic YTpi' }), 401, 'SLUICE_ERR_AUTH_MISSING', /^Bearer realm="hs"$/);
  assertRefused(await get('/hs/a', null, { authorization: 'Bearer not a token' }), 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /error="invalid_token"/);
});

test('bad signature, alg none, wrong issuer and wrong audience are 401 invalid_token, each with its description', async () => {
  const cases: [string, string, RegExp][] = [
    ['wrong key', hs(good(), 'hs1', 'another-secret-that-is-at-least-32-bytes'), /signature is invalid/],
    ['tampered', `${hs(good()).slice(0, -4)}AAAA`, /signature is invalid/],
    ['alg none', handMade({ alg: 'none', kid: 'hs1' }, good(), null), /algorithm is not accepted/],
    ['alg none, no kid', handMade({ alg: 'none' }, good(), null), /algorithm is not accepted/],
    ['issuer', hs(good({ iss: 'https://evil.test' })), /issuer is not accepted/],
    ['audience', hs(good({ aud: 'someone-else' })), /audience is not accepted/],
    ['unknown kid', hs(good(), 'nope'), /key id is unknown/],
    ['garbage', 'abc.def.ghi', /malformed/],
  ];
  for (const [what, token, description] of cases) {
    const r = await get('/hs/a', token);
    assert.equal(r.status, 401, what);
    assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_TOKEN', what);
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="hs", error="invalid_token", error_description="/, what);
    assert.match(String(r.headers['www-authenticate']), description, what);
  }
});

test('algorithm confusion: an HS256 token signed with the RSA public key is refused, even where HS256 is allowed', async () => {
  const okRs = await get('/rs/a', rs(good()));
  assert.equal(okRs.status, 200, 'the RS256 route works with a real RS256 token');
  for (const pem of [rsaPublicPem, rsaPublicPem.trim()]) {
    for (const kid of ['rs1', undefined]) {
      const forged = handMade({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) }, good(), pem);
      assertRefused(await get('/rs/a', forged), 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /invalid_token/);
      assertRefused(await get('/mixed/a', forged), 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /invalid_token/);
    }
  }
  // The mixed route does take both kinds when each is signed with its own key.
  assert.equal((await get('/mixed/a', rs(good()))).status, 200);
  assert.equal((await get('/mixed/a', hs(good()))).status, 200);
});

test('forward_claims reads claims the token itself holds, never inherited ones (constructor, toString)', async () => {
  const r = await get('/mixed/a', hs(good()));
  assert.equal(r.status, 200, r.body);
  const seen = up.seen.at(-1)!;
  assert.equal(seen.headers['x-sub'], 'alice');
  assert.equal(seen.headers['x-ctor'], undefined);
  assert.equal(seen.headers['x-to-string'], undefined);
  assert.equal((await get('/mixed/a', hs(good({ constructor: 'own' })))).status, 200);
  assert.equal(up.seen.at(-1)!.headers['x-ctor'], 'own');
});

test('expired and not-yet-valid tokens (beyond clock_skew_s) have their own codes; within the skew they pass', async () => {
  assertRefused(await get('/hs/a', hs(good({ exp: now() - 120 }))), 401, 'SLUICE_ERR_AUTH_TOKEN_EXPIRED', /the token has expired/);
  assertRefused(await get('/hs/a', hs(good({ nbf: now() + 120 }))), 401, 'SLUICE_ERR_AUTH_TOKEN_NOT_YET_VALID', /not valid yet/);
  assert.equal((await get('/hs/a', hs(good({ exp: now() - 5 })))).status, 200, 'default clock_skew_s is 30');
  assert.equal((await get('/hs/a', hs(good({ nbf: now() + 5 })))).status, 200);
  // max_age_s: iat older than 60 s is expired; no iat at all does not pass.
  assertRefused(await get('/young/a', hs({ sub: 'a', iat: now() - 120 })), 401, 'SLUICE_ERR_AUTH_TOKEN_EXPIRED', /expired/);
  assertRefused(await get('/young/a', hs({ sub: 'a' })), 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /required claim/);
  assert.equal((await get('/young/a', hs({ sub: 'a', iat: now() - 10 }))).status, 200);
});

test('a cached token is not served past its exp', async () => {
  // The zero-skew route: a token valid for 2 more seconds, verified, then served from the cache.
  const zero = hs({ sub: 'b', iat: now(), exp: now() + 2 });
  tokensSent.push(zero);
  assert.equal((await request(gw.url('/young/a'), bearer(zero))).status, 200);
  assert.equal((await request(gw.url('/young/a'), bearer(zero))).status, 200, 'cached');
  await new Promise((r) => setTimeout(r, 3100));
  for (let i = 0; i < 4; i++) {
    const r = await request(gw.url('/young/a'), bearer(zero));
    assert.equal(r.status, 401, 'both workers refuse it once exp has passed, cached or not');
    assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_TOKEN_EXPIRED');
  }
});

test('scopes: a missing one is 403 insufficient_scope naming the needed scopes; scope and scp both count', async () => {
  const r = await get('/scoped/a', hs({ sub: 'a', scope: 'read' }));
  assertRefused(
    r,
    403,
    'SLUICE_ERR_AUTH_INSUFFICIENT_SCOPE',
    /^Bearer realm="scoped", error="insufficient_scope", error_description="[^"]+", scope="read write"$/,
  );
  assert.equal((await get('/scoped/a', hs({ sub: 'a', scope: 'write read admin' }))).status, 200);
  assert.equal((await get('/scoped/a', hs({ sub: 'a', scp: ['read', 'write'] }))).status, 200);
  assertRefused(await get('/scoped/a', hs({ sub: 'a', scp: ['read'] })), 403, 'SLUICE_ERR_AUTH_INSUFFICIENT_SCOPE', /insufficient_scope/);
});

test('a forwarded claim holding a control character, or a list item holding a comma, is refused, never forwarded', async () => {
  const before = up.seen.length;
  for (const claims of [
    { sub: 'alice\r\nx-admin: yes' },
    { sub: 'a\u0001b' },
    { sub: 'a\u007fb' },
    { sub: 'a\u001bb' },
    { email: ['a@x.test', 'b@x.test,admin@x.test'] },
    { email: ['ok', 'l\nf'] },
  ]) {
    const r = await get('/hs/a', hs(good(claims)));
    assertRefused(r, 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /a forwarded claim holds a control character or a list item with a comma/);
  }
  assert.equal(up.seen.length, before, 'nothing reached the upstream');
  const ok = await get('/hs/a', hs(good({ sub: 'tab\there', email: ['a@x.test', 'b@x.test'] })));
  assert.equal(ok.status, 200, ok.body);
  assert.equal(up.seen.at(-1)!.headers['x-user-id'], 'tab\there', 'HTAB is allowed in a field value');
  assert.equal(up.seen.at(-1)!.headers['x-user-email'], 'a@x.test,b@x.test');
});

test('two Authorization headers are refused, even when the first holds a good token', async () => {
  const before = up.seen.length;
  const valid = rs(good());
  const other = rs(good({ sub: 'mallory' }), 'other-kid');
  tokensSent.push(valid, other);
  for (const pair of [
    [`Bearer ${valid}`, `Bearer ${other}`],
    [`Bearer ${valid}`, `Bearer ${valid}`],
    [`Bearer ${valid}`, 'Basic YTpi'],
  ]) {
    const r = await request(gw.url('/rs/a'), { headers: { authorization: pair } });
    assertRefused(r, 401, 'SLUICE_ERR_AUTH_INVALID_TOKEN', /more than one Authorization header/);
  }
  assert.equal(up.seen.length, before, 'nothing reached the upstream');
  assert.equal((await get('/rs/a', valid)).status, 200, 'one header passes');
});

test('refusals are logged with their code and reason, at most once a second per code; a token never is', async () => {
  const line = await gw.waitForLog((l) => l.msg === 'auth refusing requests' && l.code === 'SLUICE_ERR_AUTH_INVALID_TOKEN');
  assert.equal(line.route, 'hs');
  assert.ok(line.refused >= 1);
  await waitFor(() => gw.logs.some((l) => l.type === 'access' && l.status === 403), 'access lines flushed');
  const everything = JSON.stringify(gw.logs) + gw.stderr.join('');
  for (const t of tokensSent) {
    assert.ok(!everything.includes(t), 'a token appears in the logs');
    assert.ok(!everything.includes(t.split('.')[2] || '\0'), 'a token signature appears in the logs');
  }
  assert.ok(!everything.includes(SECRET), 'the secret appears in the logs');
});
