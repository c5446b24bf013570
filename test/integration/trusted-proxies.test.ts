import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/**
 * trusted_proxies over real sockets through the worker threads. Tests can only connect from
 * 127.0.0.1 / ::1, so "trusted" and "untrusted" are two gateways: one trusts 127.0.0.0/8, one does not.
 */
let up: TestUpstream;
let untrusted: TestGateway;
let trusted: TestGateway;

const routes = (upstream: string) => `
upstreams:
  up: { endpoints: [ { url: "${upstream}" } ] }
routes:
  - name: limited
    match: { prefix: /limited/ }
    upstream: up
    rate_limit:
      - { name: per-ip, key: ip, rate: 1, per: 1m, burst: 1 }
  - name: echo
    match: { prefix: / }
    upstream: up
`;

before(async () => {
  up = await startUpstream();
  untrusted = await startGateway(`trusted_proxies: [10.0.0.0/8, "2001:db8::/32"]\n${routes(up.origin)}`);
  trusted = await startGateway(`trusted_proxies: [127.0.0.0/8, 10.0.0.0/8, "::1/128"]\n${routes(up.origin)}`);
});
after(async () => {
  await untrusted?.stop();
  await trusted?.stop();
  await up?.close();
});

const seen = async (gw: TestGateway, headers: Record<string, string>, path = '/x') => {
  const r = await request(gw.url(path), { headers });
  assert.equal(r.status, 200, r.body);
  return json(r).headers as Record<string, string | undefined>;
};

test('from an untrusted peer, spoofed X-Forwarded-For, X-Real-IP and Forwarded never reach the upstream', async () => {
  const claims = {
    'x-real-ip': '203.0.113.9',
    forwarded: 'for=203.0.113.9',
    'x-forwarded-port': '443',
    'x-forwarded-prefix': '/admin',
    'x-client-ip': '203.0.113.9',
    'true-client-ip': '203.0.113.9',
    'cf-connecting-ip': '203.0.113.9',
  };
  const h = await seen(untrusted, { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', ...claims });
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  for (const name of Object.keys(claims)) assert.equal(h[name], undefined, name);
  const t = await seen(trusted, claims);
  for (const [name, value] of Object.entries(claims)) assert.equal(t[name], value, `${name} passes from a trusted proxy`);
});

test('from an untrusted peer, the access log and the rate limiter see the socket address, whatever X-Forwarded-For says', async () => {
  const a = await request(untrusted.url('/limited/a'), { headers: { 'x-forwarded-for': '203.0.113.1', 'x-request-id': 'spoof-1' } });
  const b = await request(untrusted.url('/limited/a'), { headers: { 'x-forwarded-for': '203.0.113.2' } });
  const c = await request(untrusted.url('/limited/a'), { headers: { 'x-forwarded-for': '203.0.113.3' } });
  assert.equal(a.status, 200);
  assert.equal(c.status, 429, `one key (127.0.0.1) for all three: rate 1 with burst 1 is used up (${a.status}, ${b.status}, ${c.status})`);
  const line = await untrusted.waitForLog((l) => l.type === 'access' && l.request_id === 'spoof-1');
  assert.equal(line.remote, '127.0.0.1');
});

test('from a trusted peer, X-Forwarded-For is walked right to left past trusted addresses', async () => {
  const h = await seen(trusted, { 'x-forwarded-for': '198.51.100.66, 203.0.113.7, 10.0.0.2' });
  // 10.0.0.2 is trusted, 203.0.113.7 is not: the client. What it claims (198.51.100.66) is dropped.
  assert.equal(h['x-forwarded-for'], '203.0.113.7, 10.0.0.2, 127.0.0.1');
});

test('several X-Forwarded-For headers are one list, in order', async () => {
  const r = await request(trusted.url('/x'), { headers: { 'x-forwarded-for': ['203.0.113.7', '10.0.0.3'] } });
  assert.equal(json(r).headers['x-forwarded-for'], '203.0.113.7, 10.0.0.3, 127.0.0.1');
});

test('a garbage entry stops the walk: the client is the last good address', async () => {
  const h = await seen(trusted, { 'x-forwarded-for': '203.0.113.7, not-an-ip, 10.0.0.2' });
  assert.equal(h['x-forwarded-for'], '10.0.0.2, 127.0.0.1');
  const junk = await seen(trusted, { 'x-forwarded-for': '203.0.113.7, unknown' });
  assert.equal(junk['x-forwarded-for'], '127.0.0.1', 'garbage rightmost: the peer stays the client');
});

test('entries with a port (as some load balancers write them) and empty list elements are understood', async () => {
  const v4 = await seen(trusted, { 'x-forwarded-for': '203.0.113.7:443' });
  assert.equal(v4['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  const v6 = await seen(trusted, { 'x-forwarded-for': '[2001:db8::7]:5555, 10.0.0.2' });
  assert.equal(v6['x-forwarded-for'], '2001:db8::7, 10.0.0.2, 127.0.0.1');
  const empty = await seen(trusted, { 'x-forwarded-for': '203.0.113.8, ,10.0.0.2,' });
  assert.equal(empty['x-forwarded-for'], '203.0.113.8, 10.0.0.2, 127.0.0.1');
  const tabs = await seen(trusted, { 'x-forwarded-for': '\t203.0.113.9\t,\t10.0.0.2 ' });
  assert.equal(tabs['x-forwarded-for'], '203.0.113.9, 10.0.0.2, 127.0.0.1', 'the upstream gets the parsed addresses, not the raw text');
});

test('from a trusted peer, X-Real-IP and Forwarded pass, and IPv6 and IPv4-mapped entries are understood', async () => {
  const h = await seen(trusted, { 'x-real-ip': '203.0.113.7', forwarded: 'for=203.0.113.7', 'x-forwarded-for': '2001:DB8::7, ::ffff:10.9.9.9' });
  assert.equal(h['x-real-ip'], '203.0.113.7');
  assert.equal(h.forwarded, 'for=203.0.113.7');
  // ::ffff:10.9.9.9 is 10.9.9.9 (trusted); 2001:db8::7 is not trusted here: the client. The upstream
  // gets each address in the short form the ip: policy and the access log use.
  assert.equal(h['x-forwarded-for'], '2001:db8::7, 10.9.9.9, 127.0.0.1');
});

test('from a trusted peer, the rate limiter keys on the client X-Forwarded-For names', async () => {
  const one = { 'x-forwarded-for': '203.0.113.50' };
  const two = { 'x-forwarded-for': '203.0.113.51' };
  const s1 = (await request(trusted.url('/limited/b'), { headers: one })).status;
  const s2 = (await request(trusted.url('/limited/b'), { headers: one })).status;
  const s3 = (await request(trusted.url('/limited/b'), { headers: one })).status;
  const other = (await request(trusted.url('/limited/b'), { headers: two })).status;
  assert.equal(s1, 200);
  assert.equal(s3, 429, `the same client is limited (${s1}, ${s2}, ${s3})`);
  assert.equal(other, 200, 'another client behind the same proxy has its own limit');
  await trusted.waitForLog((l) => l.type === 'access' && l.remote === '203.0.113.51');
});

/**
 * A PROXY protocol v2 header (PROXY, TCP over IPv4) for `src` → 10.0.0.1 in front of one request:
 * our uWS build parses it on any connection (docs/network-policy.md), sluice must never believe it.
 */
function proxiedRequest(port: number, src: number[]): Promise<string> {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const addrs = Buffer.from([...src, 10, 0, 0, 1, 0x30, 0x39, 0x00, 0x50]);
  const head = Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, addrs.length]), addrs]);
  const req = 'GET /pp HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n';
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (c) => {
      text += c.toString('latin1');
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
    s.write(Buffer.concat([head, Buffer.from(req)]));
  });
}

/** The JSON body of a raw chunked or plain HTTP/1.1 answer. */
function bodyOf(text: string): any {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  const chunked = /^[0-9a-fA-F]+\r\n([\s\S]*?)\r\n0\r\n/.exec(body);
  return JSON.parse(chunked === null ? body : chunked[1]);
}

test('a PROXY protocol v2 header is answered as a normal request and its address is never believed, even from a trusted peer', async () => {
  for (const gw of [untrusted, trusted]) {
    const text = await proxiedRequest(gw.port, [203, 0, 113, 9]);
    assert.match(text, /^HTTP\/1.1 200/);
    assert.equal(bodyOf(text).headers['x-forwarded-for'], '127.0.0.1');
  }
});

test('IPv6: a gateway on ::1 sees the IPv6 peer, trusted or not', async (t) => {
  const gw6 = await startGateway(`trusted_proxies: ["::1/128"]\nlisten: { host: "::1" }\n${routes(up.origin)}`).catch(() => null);
  if (gw6 === null) return t.skip('cannot listen on ::1 here');
  try {
    const base = `http://[::1]:${gw6.port}`;
    const plain = await request(`${base}/x`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(json(plain).headers['x-forwarded-for'], '203.0.113.7, ::1', '::1 is trusted: its X-Forwarded-For is believed');
    const chain = await request(`${base}/x`, { headers: { 'x-forwarded-for': '2001:db8::1, ::1' } });
    assert.equal(json(chain).headers['x-forwarded-for'], '2001:db8::1, ::1, ::1');
  } finally {
    await gw6.stop();
  }
});
