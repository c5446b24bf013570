import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, type Reply, request } from '../helpers/http.js';
import { parseMetrics, total } from '../helpers/metrics-text.js';
import { type RawRequest, type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';

// Issue 21: an upstream head over limits.upstream_header_bytes or with more than
// limits.upstream_header_count lines is a 502 SLUICE_ERR_UPSTREAM_PROTOCOL, the connection is closed
// and the try is not retried; the limit itself passes. Before, a head of any size up to 64 KiB and
// any number of lines was relayed as the upstream's 200.

const MAX_BYTES = 2048;
const MAX_LINES = 10;

/** A 200 head of exactly `size` bytes (status line to the empty line) with body "ok". */
function headOfSize(size: number): Buffer {
  const start = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ';
  const end = '\r\n\r\n';
  const head = start + 'p'.repeat(size - start.length - end.length) + end;
  assert.equal(head.length, size);
  return Buffer.from(head + 'ok', 'latin1');
}

function headOfLines(n: number): Buffer {
  const lines = ['Content-Length: 2'];
  for (let k = 1; k < n; k++) lines.push(`X-${k}: v`);
  return Buffer.from(`HTTP/1.1 200 OK\r\n${lines.join('\r\n')}\r\n\r\nok`, 'latin1');
}

/** Write `bytes` in pieces of `piece` bytes, one per event-loop turn (a head split across many reads). */
async function trickle(s: Socket, bytes: Buffer, piece: number): Promise<void> {
  for (let k = 0; k < bytes.length && !s.destroyed; k += piece) {
    s.write(bytes.subarray(k, k + piece));
    await sleep(1);
  }
}

/** Head bytes written before the gateway closed an endless head; -1 while it still runs. */
let endlessWritten = -1;
const closes: number[] = [];

function answer(r: RawRequest, s: Socket): void {
  s.once('close', () => closes.push(r.conn));
  const [, what, n] = r.path.split('/');
  const size = Number(n);
  if (what === 'bytes') s.write(headOfSize(size));
  else if (what === 'split') void trickle(s, headOfSize(size), 7);
  else if (what === 'lines') s.write(headOfLines(size));
  else if (what === 'endless') {
    // A head that never ends: 1 KiB header lines until the gateway closes the connection.
    let written = 0;
    s.write('HTTP/1.1 200 OK\r\n');
    const line = Buffer.from(`X-Pad: ${'p'.repeat(1014)}\r\n`, 'latin1');
    const more = () => {
      while (!s.destroyed && written < 10 * 1024 * 1024) {
        written += line.length;
        if (!s.write(line)) return void s.once('drain', more);
      }
    };
    s.once('close', () => {
      endlessWritten = written;
    });
    s.on('error', () => {});
    more();
  }
}

let up: ScriptedUpstream;
let gw: TestGateway;

before(async () => {
  up = await scripted(answer);
  gw = await startGateway(
    `
limits: { upstream_header_bytes: ${MAX_BYTES}, upstream_header_count: ${MAX_LINES} }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: r
    match: { prefix: / }
    upstream: u
    retries: { attempts: 3, on: [connect_error, reset, timeout, 502] }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await up.close();
});

function assertProtocolError(r: Reply): void {
  assert.equal(r.status, 502, r.body);
  assert.equal(json(r).error.code, 'SLUICE_ERR_UPSTREAM_PROTOCOL');
}

test('a head of exactly upstream_header_bytes passes; one byte more is 502, logged, not retried', async () => {
  const ok = await request(gw.url(`/bytes/${MAX_BYTES}`));
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'ok');
  assert.equal(ok.headers['x-pad']?.length, MAX_BYTES - 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: \r\n\r\n'.length);

  const before = up.requests.length;
  const over = await request(gw.url(`/bytes/${MAX_BYTES + 1}`));
  assertProtocolError(over);
  assert.equal(up.requests.length - before, 1, 'a protocol error is not retried');
  const id = over.headers['x-request-id'];
  const line = await gw.waitForLog((l) => l.msg === 'upstream error' && l.request_id === id);
  assert.equal(line.code, 'SLUICE_ERR_UPSTREAM_PROTOCOL');
  assert.equal(line.cause, `response head larger than ${MAX_BYTES} bytes`);
  const access = await gw.waitForLog((l) => l.type === 'access' && l.request_id === id);
  assert.equal(access.code, 'SLUICE_ERR_UPSTREAM_PROTOCOL');
  assert.equal(access.status, 502);
});

test('the same limit holds for a head split across many small reads', async () => {
  const ok = await request(gw.url(`/split/${MAX_BYTES}`));
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'ok');
  assertProtocolError(await request(gw.url(`/split/${MAX_BYTES + 1}`)));
});

test('upstream_header_count lines pass; one more is 502', async () => {
  const ok = await request(gw.url(`/lines/${MAX_LINES}`));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-9'], 'v');
  assertProtocolError(await request(gw.url(`/lines/${MAX_LINES + 1}`)));
});

test('the connection of a refused head is closed, not pooled', async () => {
  assertProtocolError(await request(gw.url(`/lines/${MAX_LINES + 1}`)));
  const conns = up.connections();
  const conn = up.requests[up.requests.length - 1].conn;
  for (let k = 0; k < 50 && !closes.includes(conn); k++) await sleep(20);
  assert.ok(closes.includes(conn), 'the upstream saw its connection closed');
  assert.equal((await request(gw.url('/bytes/100'))).status, 200);
  assert.equal(up.connections(), conns + 1, 'the next request came on a new connection');
});

test('a head that never ends is cut at the limit, not buffered', async () => {
  assertProtocolError(await request(gw.url('/endless/0')));
  for (let k = 0; k < 100 && endlessWritten < 0; k++) await sleep(20);
  // The gateway stops reading once it holds the limit; what the upstream wrote past it sat in
  // socket buffers (a few hundred KiB at most), not in the gateway's memory, and the upstream
  // could not write its 10 MiB.
  console.log(`endless head: the upstream wrote ${endlessWritten} bytes before the close`);
  assert.ok(endlessWritten > 0 && endlessWritten < 10 * 1024 * 1024, `wrote ${endlessWritten}`);
});

test('every refused head counts in sluice_requests_total under SLUICE_ERR_UPSTREAM_PROTOCOL', async () => {
  // Refused so far: bytes, split, lines, the closed connection's, the endless head.
  const text = (await request(`http://127.0.0.1:${gw.adminPort}/metrics`)).body;
  assert.equal(total(parseMetrics(text), 'sluice_requests_total', { route: 'r', status_class: '5xx', code: 'SLUICE_ERR_UPSTREAM_PROTOCOL' }), 5);
});
