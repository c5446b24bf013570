import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { type CertDir, type CertFiles, certDir } from '../helpers/certs.js';
import { runCli, startGatewayFile, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { skipWithout } from '../helpers/system-services.js';

const skip = skipWithout('openssl');

// Per-upstream tls: on sluice's own client, against node:https servers with certificates made at test
// time: a private CA given as `ca` (and then only it is trusted), a client certificate for upstreams that
// require one (mTLS), an SNI / name override, and verify: false. Every endpoint is https://127.0.0.1.

let certs: CertDir;
let upCa: CertFiles;
let clientCa: CertFiles;
const servers: Server[] = [];
const ports: Record<string, number> = {};
let gw: TestGateway;

/** An https server answering with the SNI it saw and the CN of the client certificate, if any. */
async function serve(name: string, options: ServerOptions): Promise<void> {
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ server: name, sni: socket.servername || 'none', client: peer?.subject?.CN ?? 'none' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  ports[name] = (server.address() as AddressInfo).port;
}

const pem = (f: CertFiles) => ({ cert: readFileSync(f.cert), key: readFileSync(f.key) });

const upstreamsYaml = (dir: string) => `
upstreams:
  private-ca: { endpoints: [ { url: "https://127.0.0.1:${ports.plain}" } ], tls: { ca: ${dir}/up.pem } }
  default-roots: { endpoints: [ { url: "https://127.0.0.1:${ports.plain}" } ] }
  wrong-ca: { endpoints: [ { url: "https://127.0.0.1:${ports.plain}" } ], tls: { ca: ${dir}/other.pem } }
  mtls:
    endpoints: [ { url: "https://127.0.0.1:${ports.mtls}" } ]
    tls: { ca: up.pem, cert: client.pem, key: client-key.pem }
    health: { active: { path: /, interval_ms: 300, timeout_ms: 300, healthy: 1, unhealthy: 2 } }
  mtls-no-cert: { endpoints: [ { url: "https://127.0.0.1:${ports.mtls}" } ], tls: { ca: up.pem } }
  named: { endpoints: [ { url: "https://127.0.0.1:${ports.named}" } ], tls: { ca: up.pem, servername: api.internal } }
  named-no-override: { endpoints: [ { url: "https://127.0.0.1:${ports.named}" } ], tls: { ca: up.pem } }
  self-unverified: { endpoints: [ { url: "https://127.0.0.1:${ports.self}" } ], tls: { verify: false } }
  self-verified: { endpoints: [ { url: "https://127.0.0.1:${ports.self}" } ] }
routes:
${['private-ca', 'default-roots', 'wrong-ca', 'mtls', 'mtls-no-cert', 'named', 'named-no-override', 'self-unverified', 'self-verified']
  .map((n) => `  - { name: ${n}, match: { prefix: /${n}/ }, upstream: ${n} }`)
  .join('\n')}
`;

before(async () => {
  if (skip) return;
  certs = certDir();
  upCa = certs.ca('up');
  certs.ca('other'); // the wrong-ca upstream trusts only this one
  clientCa = certs.ca('client-ca');
  certs.cert('client', { ca: clientCa, client: true, cn: 'sluice-gateway', names: ['sluice-gateway'] });
  const server = certs.cert('server', { ca: upCa, names: ['localhost', '127.0.0.1'] });
  const named = certs.cert('named', { ca: upCa, names: ['api.internal'] });
  const self = certs.cert('self', { names: ['localhost', '127.0.0.1'] });
  await serve('plain', pem(server));
  await serve('mtls', { ...pem(server), ca: readFileSync(clientCa.cert), requestCert: true, rejectUnauthorized: true });
  await serve('named', pem(named));
  await serve('self', pem(self));
  // Relative tls paths are read beside the config file; two upstreams use absolute ones.
  const configFile = join(certs.dir, 'sluice.yaml');
  writeFileSync(configFile, upstreamsYaml(certs.dir));
  // The up CA is also in NODE_EXTRA_CA_CERTS: `ca:` must replace these roots, not add to them.
  gw = await startGatewayFile(configFile, { SLUICE_WORKERS: '2', NODE_EXTRA_CA_CERTS: upCa.cert });
});

after(async () => {
  if (gw !== undefined) assert.equal(await gw.stop(), 0);
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  certs?.remove();
});

async function through(route: string): Promise<{ status: number; body: any }> {
  const r = await request(gw.url(`/${route}/x`));
  return { status: r.status, body: r.headers['content-type']?.includes('json') ? json(r) : r.body };
}

test('ca: an endpoint signed by a private CA is verified through it; the default roots do not know that CA', { skip }, async () => {
  const viaCa = await through('private-ca');
  assert.equal(viaCa.status, 200);
  assert.equal(viaCa.body.server, 'plain');
  // Without tls:, the system store plus NODE_EXTRA_CA_CERTS apply (the up CA is there in this test).
  assert.equal((await through('default-roots')).status, 200);
});

test('ca: when set, only those CAs are trusted (NODE_EXTRA_CA_CERTS and the system store are not)', { skip }, async () => {
  const r = await request(gw.url('/wrong-ca/x'));
  assert.equal(r.status, 502, r.body);
  assert.equal(json(r).error.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  const line = await gw.waitForLog((l) => l.msg === 'upstream error' && l.request_id === r.headers['x-request-id']);
  assert.match(String(line.cause), /CERT|ISSUER|SIGNATURE/, String(line.cause));
});

test('cert + key: an upstream that requires a client certificate gets it (mTLS); without it → 502', { skip }, async () => {
  for (let i = 0; i < 3; i++) {
    const r = await through('mtls');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.client, 'sluice-gateway');
  }
  const r = await request(gw.url('/mtls-no-cert/x'));
  assert.equal(r.status, 502, r.body);
  assert.match(json(r).error.code, /^SLUICE_ERR_UPSTREAM_(CONNECT|RESET)$/);
  await gw.waitForLog((l) => l.msg === 'upstream error' && l.request_id === r.headers['x-request-id']);
});

test("active health probes use the upstream's tls: (client certificate included), so an mTLS endpoint stays healthy", { skip }, async () => {
  await sleep(1000); // several probe intervals; two failed probes in a row would mark it down
  const r = await request(`http://127.0.0.1:${gw.adminPort}/upstreams`);
  const mtls = json(r).upstreams.find((u: any) => u.name === 'mtls');
  assert.equal(mtls.endpoints[0].active_down, false);
  const failed = gw.logs.find((l) => l.msg === 'endpoint unhealthy (active check)');
  assert.equal(failed, undefined, `a probe failed: ${JSON.stringify(failed)}`);
});

test('servername: sets SNI and the name checked in the certificate', { skip }, async () => {
  const r = await through('named');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.sni, 'api.internal');
  // The same endpoint by IP: the certificate has no IP SAN, so without the override it fails.
  const bare = await request(gw.url('/named-no-override/x'));
  assert.equal(bare.status, 502, bare.body);
  const line = await gw.waitForLog((l) => l.msg === 'upstream error' && l.request_id === bare.headers['x-request-id']);
  assert.match(String(line.cause), /ERR_TLS_CERT_ALTNAME_INVALID/);
});

test('verify: false accepts a self-signed certificate, with a warning at load; verified, the same one is refused', { skip }, async () => {
  assert.equal((await through('self-unverified')).status, 200);
  assert.equal((await through('self-verified')).status, 502);
  const warning = gw.logs.find((l) => l.msg?.startsWith('tls.verify is false'));
  assert.ok(warning, 'no warning logged');
  assert.deepEqual(warning.upstreams, ['self-unverified']);
  assert.equal(warning.level, 'warn');
});

test('a reload reads the files again: a new client certificate is presented on new connections', { skip }, async () => {
  const configFile = join(certs.dir, 'sluice.yaml');
  const next = certs.cert('client2', { ca: clientCa, client: true, cn: 'sluice-rotated', names: ['sluice-rotated'] });
  writeFileSync(configFile, upstreamsYaml(certs.dir).replace('cert: client.pem, key: client-key.pem', 'cert: client2.pem, key: client2-key.pem'));
  const reloaded = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' });
  assert.equal(reloaded.status, 200, reloaded.body);
  assert.ok(next.cert.endsWith('client2.pem'));
  const r = await through('mtls');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.client, 'sluice-rotated');
});

test('a reload naming a missing file, a key of another certificate or a CA file without a certificate is refused; the running config stays', {
  skip,
}, async () => {
  const configFile = join(certs.dir, 'sluice.yaml');
  const good = readFileSync(configFile, 'utf8');
  writeFileSync(join(certs.dir, 'not-a-ca.pem'), 'hello\n');
  const bad = good
    .replace(`tls: { ca: ${certs.dir}/up.pem }`, 'tls: { ca: missing.pem }')
    .replace('key: client2-key.pem', 'key: server-key.pem')
    .replace('tls: { ca: up.pem, servername: api.internal }', 'tls: { ca: not-a-ca.pem, servername: api.internal }');
  writeFileSync(configFile, bad);
  const refused = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' });
  writeFileSync(configFile, good);
  assert.equal(refused.status, 400, refused.body);
  const issues: string = json(refused).error.issues.join('\n');
  assert.match(issues, /sluice\.yaml:\d+:\d+ upstreams\.private-ca\.tls\.ca: cannot read .*missing\.pem: ENOENT/);
  assert.match(issues, /sluice\.yaml:\d+:\d+ upstreams\.mtls\.tls\.key: .*client2\.pem and this key are not a usable pair/);
  assert.match(issues, /sluice\.yaml:\d+:\d+ upstreams\.named\.tls\.ca: .*not-a-ca\.pem holds no PEM certificate/);
  assert.equal((await through('mtls')).body.client, 'sluice-rotated', 'the running config stays');
  assert.equal((await through('named')).status, 200);
});

test('sluice validate refuses tls: files it cannot use, and cert without key', { skip }, async () => {
  const file = join(certs.dir, 'bad.yaml');
  writeFileSync(
    file,
    `upstreams:
  a: { endpoints: [ { url: "https://127.0.0.1:1" } ], tls: { cert: client.pem } }
  b: { endpoints: [ { url: "http://127.0.0.1:1" } ], tls: { ca: up.pem } }
  c: { endpoints: [ { url: "https://127.0.0.1:1" } ], tls: { servername: 127.0.0.1 } }
`,
  );
  const r = await runCli(['validate', '--config', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml:2:\d+ upstreams\.a\.tls: cert and key go together/);
  assert.match(r.stderr, /bad\.yaml:3:\d+ upstreams\.b\.tls: tls: applies to https:\/\/ endpoints/);
  assert.match(r.stderr, /bad\.yaml:4:\d+ upstreams\.c\.tls\.servername: SNI carries a host name/);
});
