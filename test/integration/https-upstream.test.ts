import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';

// https:// endpoints through sluice's HTTP/1.1 client: TLS with SNI for host names, certificates
// checked against the system store plus NODE_EXTRA_CA_CERTS, connections kept alive like plain ones.
// The fixture certificate (test/fixtures/upstream-cert.pem, test-only key beside it) is self-signed
// for localhost and 127.0.0.1.

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

let server: Server;
let port = 0;
let handshakes = 0;
let trusting: TestGateway;
let untrusting: TestGateway;

before(async () => {
  server = createServer({ key: readFileSync(fixture('upstream-key.pem')), cert: readFileSync(fixture('upstream-cert.pem')) }, (req, res) => {
    const sni = (req.socket as TLSSocket).servername || 'none';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sni, path: req.url, alpn: (req.socket as TLSSocket).alpnProtocol || 'none' }));
  });
  server.on('secureConnection', () => {
    handshakes++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const yaml = `
upstreams:
  by-name: { endpoints: [ { url: "https://localhost:${port}" } ] }
  by-ip: { endpoints: [ { url: "https://127.0.0.1:${port}" } ] }
routes:
  - { name: by-name, match: { prefix: /name }, upstream: by-name }
  - { name: by-ip, match: { prefix: /ip }, upstream: by-ip }
`;
  trusting = await startGateway(yaml, { SLUICE_WORKERS: '1', NODE_EXTRA_CA_CERTS: fixture('upstream-cert.pem') });
  untrusting = await startGateway(yaml, { SLUICE_WORKERS: '1' });
});

after(async () => {
  assert.equal(await trusting.stop(), 0);
  assert.equal(await untrusting.stop(), 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('an https endpoint by host name gets SNI and ALPN http/1.1, and its keep-alive connection is reused', async () => {
  const before = handshakes;
  for (let i = 0; i < 5; i++) {
    const r = await request(trusting.url(`/name/${i}`));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), { sni: 'localhost', path: `/name/${i}`, alpn: 'http/1.1' });
  }
  assert.equal(handshakes - before, 1, 'five sequential requests share one TLS connection');
});

test("an https endpoint by IP address is verified against the certificate's IP SAN (no SNI is sent)", async () => {
  const r = await request(trusting.url('/ip/x'));
  assert.equal(r.status, 200, r.body);
  assert.equal(json(r).sni, 'none');
});

test('a certificate the gateway does not trust → 502 SLUICE_ERR_UPSTREAM_CONNECT, the cause logged', async () => {
  const r = await request(untrusting.url('/name/x'));
  assert.equal(r.status, 502, r.body);
  assert.equal(json(r).error.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  const line = await untrusting.waitForLog((l) => l.msg === 'upstream error' && l.request_id === r.headers['x-request-id']);
  assert.match(String(line.cause), /SELF_SIGNED|CERT/);
});
