import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { waitFor } from '../../helpers/wait.js';

/** API keys through the real data plane: stored as sha256, the id forwarded, the key itself never. */
const KEY_A = 'key-a-7f3c9e1d2b4a';
const KEY_B = 'key-b/with+odd=chars';
const sha = (k: string) => `sha256:${createHash('sha256').update(k).digest('hex')}`;

const keysFile = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.txt');
writeFileSync(keysFile, `# id sha256:hex\nfile-c ${sha('key-c')}\n\n`);

let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: by-header
    match: { prefix: /h }
    upstream: up
    auth: { api_key: { keys: [ { id: team-a, hash: "${sha(KEY_A)}" }, { id: team-b, hash: "${sha(KEY_B)}" } ] } }
  - name: by-query
    match: { prefix: /q }
    upstream: up
    auth: { api_key: { query: api_key, forward_id: x-client, keys: [ { id: team-a, hash: "${sha(KEY_A)}" } ] } }
  - name: short-name
    match: { prefix: /k }
    upstream: up
    auth: { api_key: { query: k, keys: [ { id: team-a, hash: "${sha(KEY_A)}" } ] } }
    cors: { origins: ["https://app.example.com"] }
  - name: from-file
    match: { prefix: /f }
    upstream: up
    auth: { api_key: { keys_file: "${keysFile}", keys: [ { id: inline, hash: "${sha('key-inline')}" } ] } }
`);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

test('a good key in x-api-key passes: its id goes upstream (a client-sent id is replaced), the key does not', async () => {
  for (const [key, id] of [
    [KEY_A, 'team-a'],
    [KEY_B, 'team-b'],
  ]) {
    const before = up.seen.length;
    const r = await request(gw.url('/h/x'), { headers: { 'x-api-key': key, 'x-api-key-id': 'root' } });
    assert.equal(r.status, 200, r.body);
    const seen = up.seen[before];
    assert.equal(seen.headers['x-api-key-id'], id);
    assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-api-key-id').length, 1);
    assert.equal(seen.headers['x-api-key'], undefined, 'the key itself is not forwarded');
  }
});

test('missing key: 401 with the realm only; a wrong key: 401 invalid_token, nothing forwarded', async () => {
  const before = up.seen.length;
  const missing = await request(gw.url('/h/x'));
  assert.equal(missing.status, 401);
  assert.equal(json(missing).error.code, 'SLUICE_ERR_AUTH_MISSING');
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="by-header"');
  for (const wrong of ['key-a-7f3c9e1d2b4', `${KEY_A}0`, 'x', sha(KEY_A)]) {
    const r = await request(gw.url('/h/x'), { headers: { 'x-api-key': wrong } });
    assert.equal(r.status, 401, wrong);
    assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_API_KEY');
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="by-header", error="invalid_token", error_description="the API key is not accepted"$/);
  }
  assert.equal(up.seen.length, before);
});

test('a key in the query: percent-decoded, taken out of the query sent upstream; twice is refused', async () => {
  const before = up.seen.length;
  const r = await request(gw.url(`/q/x?a=1&api_key=${encodeURIComponent(KEY_A)}&b=2`));
  assert.equal(r.status, 200, r.body);
  assert.equal(up.seen[before].url, '/q/x?a=1&b=2');
  assert.equal(up.seen[before].headers['x-client'], 'team-a');
  assert.equal((await request(gw.url(`/q/x?api_key=${KEY_A}`))).status, 200);
  assert.equal(up.seen.at(-1)!.url, '/q/x');
  const twice = await request(gw.url(`/q/x?api_key=${KEY_A}&api_key=nope`));
  assert.equal(twice.status, 401);
  assert.equal(json(twice).error.code, 'SLUICE_ERR_AUTH_INVALID_API_KEY');
  assert.equal((await request(gw.url('/q/x?api_keyx=1'))).status, 401, 'a longer parameter name is not the key');
});

test('a key under a name the generic mask misses (k) is masked in the access log, passed or refused', async () => {
  const ok = await request(gw.url(`/k/x?a=1&k=${KEY_A}`), { headers: { 'x-request-id': 'qk-ok' } });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(up.seen.at(-1)!.url, '/k/x?a=1');
  const wrong = await request(gw.url(`/k/x?k=${KEY_A}x&%6B=${KEY_A}`), { headers: { 'x-request-id': 'qk-bad' } });
  assert.equal(wrong.status, 401);
  const okLine = await gw.waitForLog((l) => l.type === 'access' && l.request_id === 'qk-ok');
  const badLine = await gw.waitForLog((l) => l.type === 'access' && l.request_id === 'qk-bad');
  assert.equal(okLine.query, 'a=1&k=[redacted]');
  assert.equal(badLine.query, 'k=[redacted]&%6B=[redacted]');
  // A preflight is answered by cors: before auth runs, and browsers keep the query on it.
  const preflight = await request(gw.url(`/k/x?k=${KEY_A}`), {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'x-request-id': 'qk-preflight' },
  });
  assert.equal(preflight.status, 204);
  const preflightLine = await gw.waitForLog((l) => l.type === 'access' && l.request_id === 'qk-preflight');
  assert.equal(preflightLine.query, 'k=[redacted]');
  assert.ok(!JSON.stringify(gw.logs).includes(KEY_A));
});

test('a percent-encoded parameter name is the parameter: a second one is refused, every one is removed upstream', async () => {
  const before = up.seen.length;
  for (const q of [`k=${KEY_A}&%6B=other`, `%6b=other&k=${KEY_A}`, `k=${KEY_A}&%6B`]) {
    const r = await request(gw.url(`/k/x?${q}`));
    assert.equal(r.status, 401, q);
    assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_API_KEY');
  }
  assert.equal(up.seen.length, before, 'nothing refused went upstream');
  const encoded = await request(gw.url(`/k/x?b=2&%6B=${KEY_A}&c=3`));
  assert.equal(encoded.status, 200, encoded.body);
  assert.equal(up.seen.at(-1)!.url, '/k/x?b=2&c=3');
  const long = await request(gw.url(`/q/x?%61pi_key=${KEY_A}`));
  assert.equal(long.status, 200, long.body);
  assert.equal(up.seen.at(-1)!.url, '/q/x');
});

test('two x-api-key headers are refused, even when one is good', async () => {
  const before = up.seen.length;
  for (const keys of [
    [KEY_A, 'other'],
    ['other', KEY_A],
    [KEY_A, KEY_A],
  ]) {
    const r = await request(gw.url('/h/x'), { headers: { 'x-api-key': keys } });
    assert.equal(r.status, 401, keys.join());
    assert.equal(json(r).error.code, 'SLUICE_ERR_AUTH_INVALID_API_KEY');
  }
  assert.equal(up.seen.length, before);
});

test('the key is never logged', async () => {
  await gw.waitForLog((l) => l.msg === 'auth refusing requests' && l.code === 'SLUICE_ERR_AUTH_INVALID_API_KEY');
  const everything = JSON.stringify(gw.logs) + gw.stderr.join('');
  assert.ok(!everything.includes(KEY_A) && !everything.includes(encodeURIComponent(KEY_B)) && !everything.includes(KEY_B));
});

test('keys_file: its keys and the inline ones pass; an edit applies without a reload; a bad edit keeps the last good keys', async () => {
  const status = async (key: string) => (await request(gw.url('/f/x'), { headers: { 'x-api-key': key } })).status;
  assert.equal(await status('key-c'), 200);
  assert.equal(await status('key-inline'), 200);
  assert.equal(await status('key-d'), 401);
  // Replaced the way editors and deploy tools do: a new file renamed over the old one.
  const next = `${keysFile}.new`;
  writeFileSync(next, `file-d ${sha('key-d')}\n`);
  renameSync(next, keysFile);
  await waitFor(async () => (await status('key-d')) === 200, 'the new key accepted', 5000);
  for (let i = 0; i < 4; i++) {
    assert.equal(await status('key-d'), 200, 'in both workers');
    assert.equal(await status('key-c'), 401, 'the removed key is refused');
  }
  assert.equal(up.seen.at(-1)!.headers['x-api-key-id'], 'file-d');
  writeFileSync(keysFile, 'file-e not-a-hash\n');
  await gw.waitForLog((l) => l.msg === 'API keys file rejected; its last keys stay in force' && l.file === keysFile);
  assert.equal(await status('key-d'), 200);
});
