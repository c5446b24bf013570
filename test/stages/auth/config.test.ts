import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlanText } from '../../../src/primary/load-plan.js';
import type { AuthPlan } from '../../../src/stages/auth/compile.js';
import { configProblems, stagePlan } from '../../helpers/config.js';

/** What `auth:` refuses at load time, each with file:line:col and the field. */
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const dir = mkdtempSync(join(tmpdir(), 'sluice-auth-config-'));
const ecPem = join(dir, 'ec.pem');
writeFileSync(ecPem, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
const weakPem = join(dir, 'weak.pem');
writeFileSync(weakPem, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
const badKeys = join(dir, 'keys.txt');
writeFileSync(badKeys, `ok sha256:${'a'.repeat(64)}\nbroken line\nok sha256:${'b'.repeat(64)}\n`);
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, `${SECRET}\n`);

const route = (auth: string) => `upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:1" } ] }
routes:
  - name: r
    match: { prefix: / }
    upstream: up
    auth: ${auth}
`;

test('a valid config compiles: files and environment variables are read in the primary, algorithms cut per key', () => {
  const plan = stagePlan<AuthPlan>(
    route(`{ jwt: { algorithms: [HS256, ES256, RS256], keys: [ { kid: a, secret_file: "${secretFile}" }, { kid: b, pem_file: "${ecPem}" } ] } }`),
    'auth',
    'r',
  )!;
  assert.equal(plan.jwt!.keys[0].material, SECRET, 'the trailing newline of the file is dropped');
  assert.deepEqual(plan.jwt!.keys[0].algorithms, ['HS256']);
  assert.deepEqual(plan.jwt!.keys[1].algorithms, ['ES256'], 'a P-256 key does ES256 only');
  assert.equal(plan.realm, 'r');
});

test('refused: both kinds, neither, a short secret, a key that fits no algorithm, a JWKS with HS only, alg none', () => {
  const cases: [string, RegExp][] = [
    ['{ realm: x }', /gw\.yaml:7:\d+ routes\[0\]\.auth: set exactly one of jwt or api_key/],
    [
      `{ jwt: { algorithms: [HS256], keys: [ { secret: "${SECRET}" } ] }, api_key: { keys: [ { id: a, hash: "sha256:${'0'.repeat(64)}" } ] } }`,
      /routes\[0\]\.auth: set exactly one/,
    ],
    ['{ jwt: { algorithms: [HS256] } }', /routes\[0\]\.auth\.jwt: set keys, jwks_url, or both/],
    ['{ jwt: { algorithms: [HS256], keys: [ { secret: short } ] } }', /auth\.jwt\.keys\[0\]\.secret: an HMAC secret needs at least 32 bytes/],
    [`{ jwt: { algorithms: [RS256], keys: [ { secret: "${SECRET}" } ] } }`, /auth\.jwt\.keys\[0\]\.secret: an HMAC secret verifies HS\* only/],
    [
      `{ jwt: { algorithms: [RS256], keys: [ { pem_file: "${ecPem}" } ] } }`,
      /auth\.jwt\.keys\[0\]\.pem_file: this key verifies none of the route's algorithms \(RS256\)/,
    ],
    ['{ jwt: { algorithms: [HS256], keys: [ { pem: "not a key" } ] } }', /auth\.jwt\.keys\[0\]\.pem: not a PEM public key/],
    [`{ jwt: { algorithms: [RS256], keys: [ { pem_file: "${weakPem}" } ] } }`, /keys\[0\]\.pem_file: an RSA key of 1024 bits is too short: at least 2048/],
    [
      '{ jwt: { algorithms: [HS256], keys: [ { secret_env: SLUICE_TEST_UNSET_SECRET } ] } }',
      /secret_env: environment variable SLUICE_TEST_UNSET_SECRET is not set/,
    ],
    [`{ jwt: { algorithms: [HS256], keys: [ { secret: "${SECRET}", secret_env: X } ] } }`, /auth\.jwt\.keys\[0\]: set exactly one of secret/],
    ['{ jwt: { algorithms: [HS256], jwks_url: "https://idp.test/jwks" } }', /auth\.jwt\.jwks_url: a JWKS holds public keys/],
    ['{ jwt: { algorithms: [none], jwks_url: "https://idp.test/jwks" } }', /auth\.jwt\.algorithms\[0\]/],
    ['{ jwt: { algorithms: [ES256], jwks_url: "http://idp.test/jwks" } }', /gw\.yaml:7:\d+ routes\[0\]\.auth\.jwt\.jwks_url: a plain http JWKS off loopback/],
    ['{ jwt: { algorithms: [ES256], jwks_url: "http://10.0.0.1:8080/jwks" } }', /auth\.jwt\.jwks_url: a plain http JWKS off loopback/],
    ['{ jwt: { algorithms: [ES256], jwks_url: "http://127.0.0.1.idp.test/jwks" } }', /auth\.jwt\.jwks_url: a plain http JWKS off loopback/],
    ['{ jwt: { algorithms: [ES256], jwks_url: "https://idp.test/jwks", forward_claims: { sub: host } } }', /forward_claims\.sub: host cannot carry a claim/],
    [
      '{ jwt: { algorithms: [ES256], jwks_url: "https://idp.test/jwks", forward_claims: { sub: X-Forwarded-For } } }',
      /gw\.yaml:7:\d+ routes\[0\]\.auth\.jwt\.forward_claims\.sub: x-forwarded-for cannot carry a claim/,
    ],
    [
      '{ jwt: { algorithms: [ES256], jwks_url: "https://idp.test/jwks", forward_claims: { a: x-forwarded-proto } } }',
      /forward_claims\.a: x-forwarded-proto cannot/,
    ],
    [
      '{ jwt: { algorithms: [ES256], jwks_url: "https://idp.test/jwks", forward_claims: { a: x-forwarded-host } } }',
      /forward_claims\.a: x-forwarded-host cannot/,
    ],
    ['{ jwt: { algorithms: [ES256], jwks_url: "https://idp.test/jwks", forward_claims: { a: via } } }', /forward_claims\.a: via cannot carry a claim/],
    [
      `{ api_key: { forward_id: x-forwarded-for, keys: [ { id: a, hash: "sha256:${'0'.repeat(64)}" } ] } }`,
      /api_key\.forward_id: x-forwarded-for cannot carry the key id/,
    ],
    [
      `{ api_key: { header: x-key, query: key, keys: [ { id: a, hash: "sha256:${'0'.repeat(64)}" } ] } }`,
      /auth\.api_key\.query: set header or query, not both/,
    ],
    ['{ api_key: { keys: [ { id: a, hash: "md5:abc" } ] } }', /auth\.api_key\.keys\[0\]\.hash/],
    ['{ api_key: { header: x-key } }', /routes\[0\]\.auth\.api_key: set keys, keys_file, or both/],
    [`{ api_key: { keys_file: "${badKeys}" } }`, /auth\.api_key\.keys_file: \S+keys\.txt line 2: expected "ID sha256:<64 hex digits>"/],
    [`{ api_key: { keys_file: "${badKeys}" } }`, /auth\.api_key\.keys_file: \S+keys\.txt line 3: duplicate key id "ok"/],
    [`{ api_key: { keys_file: "${dir}/missing.txt" } }`, /auth\.api_key\.keys_file: cannot read \S+missing\.txt: ENOENT/],
    [
      `{ api_key: { keys: [ { id: a, hash: "sha256:${'0'.repeat(64)}" }, { id: a, hash: "sha256:${'1'.repeat(64)}" } ] } }`,
      /auth\.api_key\.keys\[1\]\.id: duplicate key id "a"/,
    ],
  ];
  for (const [auth, expected] of cases) {
    const problems = configProblems(route(auth));
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${auth}\n→ ${problems.join('\n')}`,
    );
  }
});

test('jwks_url: https, or http to loopback, or http with jwks_insecure_http: true, load', () => {
  for (const url of ['https://idp.test/jwks', 'http://127.0.0.1:9/jwks', 'http://localhost:9/jwks', 'http://[::1]:9/jwks']) {
    const plan = stagePlan<AuthPlan>(route(`{ jwt: { algorithms: [ES256], jwks_url: "${url}" } }`), 'auth', 'r')!;
    assert.equal(plan.jwt!.jwksUrl, url);
  }
  const plan = stagePlan<AuthPlan>(route('{ jwt: { algorithms: [ES256], jwks_url: "http://idp.test/jwks", jwks_insecure_http: true } }'), 'auth', 'r')!;
  assert.equal(plan.jwt!.jwksUrl, 'http://idp.test/jwks');
});

test('jwks settings: max_cache_s below min_cache_s is refused', () => {
  const problems = configProblems(
    `jwks: { min_cache_s: 60, max_cache_s: 30 }\n${route('{ api_key: { keys: [ { id: a, hash: "sha256:' + '0'.repeat(64) + '" } ] } }')}`,
  );
  assert.ok(
    problems.some((p) => /gw\.yaml:1:\d+ jwks\.max_cache_s: must be at least min_cache_s/.test(p)),
    problems.join('\n'),
  );
});

test("relative secret_file, pem_file and keys_file are read from the config file's folder, like every file a config names", () => {
  writeFileSync(join(dir, 'good-keys.txt'), `team sha256:${'c'.repeat(64)}\n`);
  const yaml = `upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:1" } ] }
routes:
  - { name: jwt, match: { prefix: /j }, upstream: up, auth: { jwt: { algorithms: [HS256, ES256], keys: [ { kid: a, secret_file: secret }, { kid: b, pem_file: ec.pem } ] } } }
  - { name: key, match: { prefix: /k }, upstream: up, auth: { api_key: { keys_file: good-keys.txt } } }
`;
  // The gateway's working directory is elsewhere: the paths must not depend on it.
  const routes = loadPlanText(yaml, join(dir, 'gw.yaml'), {}).plan.routes;
  const jwt = routes[0].stages.find((s) => s.kind === 'auth')!.plan as AuthPlan;
  assert.equal(jwt.jwt!.keys[0].material, SECRET);
  const key = routes[1].stages.find((s) => s.kind === 'auth')!.plan as AuthPlan;
  assert.equal(key.apiKey!.keysFile, join(dir, 'good-keys.txt'));
});
