import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, startGateway, startGatewayFile, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';

// The admin API with a token: /healthz and /readyz stay open (probes), everything else needs
// `Authorization: Bearer <token>`; off loopback, no token means no start.

const TOKEN = 'first-token-0123456789abcdef';
const OTHER = 'second-token-0123456789abcdef';

const routes = `
routes:
  - { name: hello, match: { path: /hello }, respond: { body: hi } }
`;

const admin = (gw: TestGateway, path: string, opts: { method?: string; token?: string; authorization?: string } = {}) =>
  request(`http://127.0.0.1:${gw.adminPort}${path}`, {
    method: opts.method ?? 'GET',
    headers:
      opts.authorization !== undefined ? { authorization: opts.authorization } : opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {},
  });

/** Nothing the gateway wrote (logs, stderr) holds the token. */
function assertNeverLogged(gw: TestGateway, ...tokens: string[]): void {
  const all = JSON.stringify(gw.logs) + gw.stderr.join('');
  for (const t of tokens) assert.ok(!all.includes(t), 'the admin token appears in the output');
}

test('with admin.token: 401 without or with a wrong token, 200 with it; /healthz and /readyz stay open', async () => {
  const gw = await startGateway(`admin: { token: "${TOKEN}" }\n${routes}`, { SLUICE_WORKERS: '1' });
  try {
    for (const path of ['/healthz', '/readyz']) {
      assert.equal((await admin(gw, path)).status, 200, path);
      assert.equal((await admin(gw, path, { method: 'HEAD' })).status, 200, `HEAD ${path}: load balancers probe with HEAD too`);
    }

    for (const [what, opts] of [
      ['no header', {}],
      ['wrong token', { token: OTHER }],
      ['token with one byte off', { token: TOKEN.slice(0, -1) + 'g' }],
      ['a prefix of the token', { token: TOKEN.slice(0, 16) }],
      ['Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
      ['bare token, no scheme', { authorization: TOKEN }],
    ] as const) {
      for (const [path, method] of [
        ['/upstreams', 'GET'],
        ['/reload', 'POST'],
        ['/nothing-here', 'GET'],
      ]) {
        const r = await admin(gw, path, { ...opts, method });
        assert.equal(r.status, 401, `${what} ${method} ${path}`);
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="sluice-admin"');
        assert.equal(json(r).error.code, 'SLUICE_ERR_ADMIN_UNAUTHORIZED');
      }
    }
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 200);
    assert.equal((await admin(gw, '/upstreams', { authorization: `bearer ${TOKEN}` })).status, 200, 'the scheme is case-insensitive');
    const reloaded = await admin(gw, '/reload', { method: 'POST', token: TOKEN });
    assert.equal(reloaded.status, 200, reloaded.body);
    assert.equal(json(reloaded).generation, 2);
    assert.equal((await request(gw.url('/hello'))).body, 'hi', 'the data plane needs no token');
    assertNeverLogged(gw, TOKEN);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

test('admin.token_file is read at start and again on reload: the new token works at once, the old one no more', async () => {
  const dir = mkdtempSync(join(configs, 'token-file-'));
  writeFileSync(join(dir, 'admin.token'), `${TOKEN}\n`);
  // A relative token_file is found beside the config file.
  const configFile = join(dir, 'sluice.yaml');
  writeFileSync(configFile, `admin: { token_file: admin.token }\n${routes}`);
  const gw = await startGatewayFile(configFile, { SLUICE_WORKERS: '1' });
  try {
    assert.equal((await admin(gw, '/upstreams')).status, 401);
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 200, 'the trailing newline is not part of the token');

    writeFileSync(join(dir, 'admin.token'), OTHER);
    assert.equal((await admin(gw, '/reload', { method: 'POST', token: TOKEN })).status, 200);
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 401, 'the old token stopped working');
    assert.equal((await admin(gw, '/upstreams', { token: OTHER })).status, 200, 'the same admin server takes the new token');

    // An empty token file refuses the reload; the running token stays.
    writeFileSync(join(dir, 'admin.token'), '\n');
    const refused = await admin(gw, '/reload', { method: 'POST', token: OTHER });
    assert.equal(refused.status, 400);
    assert.match(json(refused).error.issues.join('\n'), /sluice\.yaml:1:\d+ admin\.token_file: .*admin\.token must hold one token/);
    assert.equal((await admin(gw, '/upstreams', { token: OTHER })).status, 200);
    assertNeverLogged(gw, TOKEN, OTHER);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

test('SLUICE_ADMIN_TOKEN sets the token without writing it in the config', async () => {
  const gw = await startGateway(routes, { SLUICE_WORKERS: '1', SLUICE_ADMIN_TOKEN: TOKEN });
  try {
    assert.equal((await admin(gw, '/upstreams')).status, 401);
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 200);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

test('an admin listener off loopback without a token refuses to start, naming the field', async () => {
  await assert.rejects(startGateway(`admin: { host: 0.0.0.0 }\n${routes}`, { SLUICE_WORKERS: '1' }), (err: Error) => {
    assert.match(err.message, /gateway exited \(1\)/);
    assert.match(err.message, /SLUICE_ERR_ADMIN_OPEN/);
    assert.match(err.message, /sluice\.yaml:1:\d+ admin\.host: the admin API on 0\.0\.0\.0 is not on loopback and has no token/);
    return true;
  });
  const validate = await runCli(['validate', '--config', writeConfig(`admin: { host: "::" }\n${routes}`)]);
  assert.equal(validate.code, 1);
  assert.match(validate.stderr, /SLUICE_ERR_ADMIN_OPEN/);
  for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1']) {
    const ok = await runCli(['validate', '--config', writeConfig(`admin: { host: "${host}" }\n${routes}`)]);
    assert.equal(ok.code, 0, `${host}: ${ok.stderr}`);
  }
});

test('off loopback with a token it starts; a reload that drops the token is refused and the token stays', async () => {
  const gw = await startGateway(`admin: { host: 0.0.0.0, token: "${TOKEN}" }\n${routes}`, { SLUICE_WORKERS: '1' });
  try {
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 200);
    // Moving admin.host to loopback applies only on restart, so the running listener would be open.
    writeFileSync(gw.configFile, `admin: { host: 127.0.0.1 }\n${routes}`);
    const refused = await admin(gw, '/reload', { method: 'POST', token: TOKEN });
    assert.equal(refused.status, 400, refused.body);
    assert.equal(json(refused).error.code, 'SLUICE_ERR_ADMIN_OPEN');
    assert.equal((await admin(gw, '/upstreams')).status, 401, 'still protected');
    assert.equal((await admin(gw, '/upstreams', { token: TOKEN })).status, 200);
    assertNeverLogged(gw, TOKEN);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

test('admin.token and admin.token_file together, or a short token, are config errors', async () => {
  const both = await runCli(['validate', '--config', writeConfig(`admin: { token: "${TOKEN}", token_file: x }\n${routes}`)]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /admin\.token_file: set one of admin\.token/);
  const short = await runCli(['validate', '--config', writeConfig(routes)], { SLUICE_ADMIN_TOKEN: 'short' });
  assert.equal(short.code, 1);
  assert.match(short.stderr, /admin\.token: must be 16 or more/);
  assert.ok(!short.stderr.includes('"short"'), 'the value is not echoed');
  // The likeliest typo is the real secret with a space in it: the schema's message must not quote it.
  const spaced = await runCli(['validate', '--config', writeConfig(`admin: { token: "${TOKEN} x" }\n${routes}`)]);
  assert.equal(spaced.code, 1);
  assert.match(spaced.stderr, /admin\.token: the value must match/);
  assert.ok(!spaced.stderr.includes(TOKEN), 'the token is not echoed');
  const bracketed = await runCli(['validate', '--config', writeConfig(`admin: { host: "[::1]" }\n${routes}`)]);
  assert.equal(bracketed.code, 1, 'a bracketed address cannot be bound, so it is not taken for loopback');
  const missing = await runCli(['validate', '--config', writeConfig(`admin: { token_file: /nonexistent/admin.token }\n${routes}`)]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /sluice\.yaml:1:\d+ admin\.token_file: cannot read \/nonexistent\/admin\.token: ENOENT/);
});

/** Every config this file writes lives in one folder, removed when the tests end. */
const configs = mkdtempSync(join(tmpdir(), 'sluice-admin-'));
after(() => rmSync(configs, { recursive: true, force: true }));

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(configs, 'c-')), 'sluice.yaml');
  writeFileSync(file, yaml);
  return file;
}

test('without a token: only requests addressed to a loopback name with no foreign Origin (DNS rebinding, cross-site POST)', async () => {
  const gw = await startGateway(routes, { SLUICE_WORKERS: '1' });
  try {
    const at = (path: string, headers: Record<string, string>, method = 'GET') => request(`http://127.0.0.1:${gw.adminPort}${path}`, { method, headers });
    const port = gw.adminPort;
    for (const [path, method] of [
      ['/config', 'GET'],
      ['/upstreams', 'GET'],
      ['/metrics', 'GET'],
      ['/reload', 'POST'],
    ]) {
      const rebound = await at(path, { host: `attacker.example:${port}` }, method);
      assert.equal(rebound.status, 403, `${method} ${path} by a foreign name`);
      assert.equal(json(rebound).error.code, 'SLUICE_ERR_ADMIN_HOST');
      assert.equal((await at(path, { host: `localhost:${port}`, origin: 'http://evil.example' }, method)).status, 403, `${method} ${path} from a foreign page`);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      assert.equal((await at('/config', { host })).status, 200, host);
    }
    assert.equal((await at('/config', { host: `127.0.0.1:${port}`, origin: `http://localhost:${port}` })).status, 200, 'the dashboard itself');
    assert.equal((await at('/healthz', { host: 'attacker.example' })).status, 200, 'probes stay open');
  } finally {
    await gw.stop();
  }
});
