import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { refusedPort, startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Regressions a review of Pipeline v2 found against the build before it: each test passed there,
// failed after the restructuring, and passes with its fix.

/** Send bytes on one connection, each followed by a pause in ms; what came back, and whether it closed. */
function converse(port: number, steps: Array<[string, number]>): Promise<{ text: string; closed: boolean; statuses: number[] }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    s.on('data', (c) => {
      text += c.toString('latin1');
    });
    s.on('close', () => {
      closed = true;
    });
    s.on('error', () => {});
    void (async () => {
      for (const [bytes, wait] of steps) {
        if (!closed) s.write(bytes);
        await new Promise((r) => setTimeout(r, wait));
      }
      s.destroy();
      resolve({ text, closed, statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])) });
    })();
  });
}

const OK = 'GET /api/ok HTTP/1.1\r\nHost: a\r\n\r\n';
let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream((req, res) => {
    if (req.url!.includes('slow')) setTimeout(() => res.end('slow'), 1500);
    else req.resume().on('end', () => res.end('ok'));
  });
  gw = await startGateway(
    `
limits: { max_header_bytes: 4096 }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ], max_requests: 1 }
routes:
  - { name: api, match: { prefix: /api/ }, upstream: u, retries: { attempts: 2 }, fallback: { status: 200, body: "fallback" } }
`,
    { SLUICE_WORKERS: '1' },
  );
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

test('a refusal that leaves the framing sound (400 bad path) keeps the connection; 431 closes it (issue 21)', async () => {
  const badPath = await converse(gw.port, [
    ['GET /api/%zz HTTP/1.1\r\nHost: a\r\n\r\n', 300],
    [OK, 300],
  ]);
  assert.deepEqual(badPath.statuses, [400, 200], badPath.text);
  const big = await converse(gw.port, [
    [`GET /api/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`, 300],
    [OK, 300],
  ]);
  assert.deepEqual(big.statuses, [431], big.text);
  assert.equal(big.closed, true);
});

test('a kept (retryable) body read whole, then answered by the gateway at once, keeps the connection', async () => {
  const slow = request(gw.url('/api/slow')); // holds the upstream's one max_requests place
  await new Promise((r) => setTimeout(r, 200));
  // The body arrives in two reads, so the leg starts when the kept body completes.
  const r = await converse(gw.port, [
    ['POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc', 150],
    ['def', 300],
  ]);
  assert.equal(r.statuses[0], 200, r.text); // the route's fallback: the upstream is at max_requests
  assert.doesNotMatch(r.text, /connection: close/i, 'the body was read whole: no reason to close');
  assert.equal(r.closed, false);
  await slow;
});

test('a client gone while a retry waits: the access line still names the upstream error it was waiting out', async () => {
  const down = [await refusedPort(), await refusedPort()];
  const g = await startGateway(
    `
upstreams:
  u: { endpoints: [ { url: "http://127.0.0.1:${down[0]}" }, { url: "http://127.0.0.1:${down[1]}" } ], health: { passive: { consecutive_failures: 0 } } }
routes:
  - { name: api, match: { prefix: / }, upstream: u, retries: { attempts: 3, on: [connect_error], backoff: { base_ms: 5000, max_ms: 5000 } } }
`,
    { SLUICE_WORKERS: '1' },
  );
  try {
    await converse(g.port, [['GET /x HTTP/1.1\r\nHost: a\r\n\r\n', 300]]); // leaves during the backoff
    const line = await g.waitForLog((l) => l.path === '/x');
    assert.equal(line.status, 499);
    assert.equal(line.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  } finally {
    await g.stop();
  }
});
