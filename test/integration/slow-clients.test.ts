import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { statuses } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

// Issue 21, class 5: slow clients. timeouts.client_body_ms bounds a request body (408, close, the
// upstream try aborted); uWS's own timer bounds a slow head and an idle keep-alive connection
// (measured here so a uWS upgrade that changes them shows up). Over raw sockets, on 127.0.0.1.
const BODY_MS = 1500;

/** What the upstream saw of each request: when it arrived, and whether it ended whole or was cut. */
interface UpstreamView {
  url: string;
  at: number;
  bytes: number;
  ended: 'complete' | 'aborted' | null;
  endedAt: number;
}
const views: UpstreamView[] = [];
let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream((req, res) => {
    const v: UpstreamView = { url: req.url!, at: Date.now(), bytes: 0, ended: null, endedAt: 0 };
    views.push(v);
    req.on('data', (c: Buffer) => {
      v.bytes += c.length;
    });
    req.on('end', () => {
      v.ended = 'complete';
      v.endedAt = Date.now();
      if (req.url!.startsWith('/slow-reader')) setTimeout(() => res.end('ok'), 10);
      else res.end('ok');
    });
    req.on('close', () => {
      if (v.ended === null) {
        v.ended = 'aborted';
        v.endedAt = Date.now();
      }
    });
    // A slow reader: the upstream takes the body only after 2.5 s, so sluice holds reading paused.
    if (req.url!.startsWith('/slow-reader')) {
      req.pause();
      setTimeout(() => req.resume(), 2500);
    }
  });
  gw = await startGateway(
    `
limits: { max_body_bytes: 67108864 }
timeouts: { client_body_ms: ${BODY_MS} }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: streamed, match: { prefix: /streamed }, upstream: u, retries: { attempts: 1 } }
  - { name: slow-reader, match: { prefix: /slow-reader }, upstream: u, retries: { attempts: 1 } }
  - { name: kept, match: { prefix: /kept }, upstream: u, retries: { attempts: 2 } }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await up.close();
});

interface Conversation {
  readonly socket: Socket;
  text: string;
  /** ms from connect to the gateway's EOF; -1 while open. */
  closedAt: number;
  readonly t0: number;
  readonly closed: Promise<void>;
}

function open(port: number): Conversation {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const c: Conversation = { socket, text: '', closedAt: -1, t0: Date.now(), closed: null as unknown as Promise<void> };
  socket.on('data', (b) => {
    c.text += b.toString('latin1');
  });
  (c as { closed: Promise<void> }).closed = new Promise((r) =>
    socket.on('close', () => {
      c.closedAt = Date.now() - c.t0;
      r();
    }),
  );
  return c;
}

/** Write `bytes` one byte every `everyMs` until the connection closes or `maxMs` passes. */
async function drip(c: Conversation, bytes: string, everyMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  for (const ch of bytes) {
    if (c.closedAt >= 0 || Date.now() > end) return;
    c.socket.write(ch);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolve when the gateway closes `c`, or fail after `maxMs`. */
async function closedWithin(c: Conversation, maxMs: number, what: string): Promise<number> {
  await waitFor(() => c.closedAt >= 0, what, maxMs);
  c.socket.destroy();
  return c.closedAt;
}

function assert408(c: Conversation) {
  assert.deepEqual(statuses(c.text), [408], c.text.slice(0, 300));
  assert.match(c.text, /SLUICE_ERR_CLIENT_TIMEOUT/);
  assert.match(c.text, /\r\nconnection: close\r\n/i);
}

test('a body sent 1 byte per 300 ms → 408 at client_body_ms, connection closed, the upstream try aborted', async () => {
  const c = open(gw.port);
  c.socket.write('POST /streamed HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
  const sent = Date.now();
  void drip(c, 'x'.repeat(100), 300, 5000);
  const at = await closedWithin(c, 5000, 'the gateway closes a slow body');
  assert408(c);
  const late = Date.now() - sent;
  assert.ok(late >= BODY_MS - 50 && late < BODY_MS + 1000, `408 after ${late} ms (client_body_ms ${BODY_MS})`);
  assert.ok(at < BODY_MS + 1200, `closed ${at} ms after connect`);
  const v = views.find((x) => x.url === '/streamed')!;
  assert.ok(v, 'the streamed body reached the upstream before the cut');
  await waitFor(() => v.ended !== null, 'the upstream sees its request end', 2000);
  assert.equal(v.ended, 'aborted', 'the upstream try is aborted, not completed');
  assert.ok(v.bytes < 100);
  assert.ok(v.endedAt - sent < BODY_MS + 1200, `upstream cut ${v.endedAt - sent} ms after the head`);
  const line = await gw.waitForLog((l) => l.type === 'access' && l.path === '/streamed');
  assert.equal(line.status, 408);
  assert.equal(line.code, 'SLUICE_ERR_CLIENT_TIMEOUT');
});

test("a streamed body that stalls for longer than idle_ms is the client's fault: 408 at client_body_ms, not a 504", async () => {
  // idle_ms bounds an upload the upstream stops taking; here the upstream reads and the client stalls.
  const stalled = await startGateway(
    `
timeouts: { client_body_ms: ${BODY_MS}, idle_ms: 300 }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: streamed, match: { prefix: /stalled }, upstream: u, retries: { attempts: 1 } }
`,
    { SLUICE_WORKERS: '1' },
  );
  try {
    const c = open(stalled.port);
    c.socket.write('POST /stalled HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
    const sent = Date.now();
    await closedWithin(c, 4000, 'the gateway closes a stalled body');
    assert408(c);
    const late = Date.now() - sent;
    assert.ok(late >= BODY_MS - 50 && late < BODY_MS + 1000, `408 after ${late} ms (client_body_ms ${BODY_MS})`);
    const v = views.find((x) => x.url === '/stalled')!;
    await waitFor(() => v.ended !== null, 'the upstream sees its request end', 2000);
    assert.equal(v.ended, 'aborted');
  } finally {
    assert.equal(await stalled.stop(), 0);
  }
});

test('a kept body that never comes → 408 at client_body_ms, nothing forwarded', async () => {
  const n = up.seen.length;
  const c = open(gw.port);
  c.socket.write('POST /kept HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
  const sent = Date.now();
  await closedWithin(c, 4000, 'the gateway closes a body that stopped');
  assert408(c);
  const late = Date.now() - sent;
  assert.ok(late >= BODY_MS - 50 && late < BODY_MS + 1000, `408 after ${late} ms`);
  assert.equal(up.seen.length, n, 'a body kept for retries is never forwarded incomplete');
});

test('a body that arrives in time, in pieces, is forwarded and the connection kept', async () => {
  const c = open(gw.port);
  c.socket.write('POST /streamed/ok HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab');
  await new Promise((r) => setTimeout(r, 400));
  c.socket.write('cd');
  await new Promise((r) => setTimeout(r, 400));
  c.socket.write('ef');
  await waitFor(() => statuses(c.text).length > 0, 'an answer', 3000);
  await new Promise((r) => setTimeout(r, BODY_MS)); // past the deadline the request had: nothing fires
  assert.deepEqual(statuses(c.text), [200], c.text);
  assert.equal(c.closedAt, -1);
  c.socket.destroy();
});

test('time while sluice holds reading for a slow upstream does not count against client_body_ms', async () => {
  // 32 MiB sent as fast as the client can: more than loopback buffers hold, so sluice pauses
  // reading while the upstream does not read (2.5 s, longer than client_body_ms).
  const size = 32 * 1024 * 1024;
  const c = open(gw.port);
  c.socket.write(`POST /slow-reader HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 32 && c.closedAt < 0; i++) {
    if (!c.socket.write(chunk)) await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.closed]);
  }
  await waitFor(() => statuses(c.text).length > 0, 'an answer', 8000);
  assert.deepEqual(statuses(c.text), [200], c.text.slice(0, 300));
  const v = views.find((x) => x.url === '/slow-reader')!;
  assert.equal(v.ended, 'complete');
  assert.equal(v.bytes, size);
  c.socket.destroy();
});

test('uWS bounds a slow head: one byte per second is cut about 10 s after connect, unanswered, never forwarded', async () => {
  const n = up.seen.length;
  const c = open(gw.port);
  void drip(c, 'POST /streamed HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa', 1000, 20000);
  const at = await closedWithin(c, 16000, 'uWS closes a slow head');
  assert.ok(at >= 8000 && at <= 14000, `closed ${at} ms after connect`);
  assert.deepEqual(statuses(c.text), []);
  assert.equal(up.seen.length, n);
});

test('uWS bounds an idle keep-alive connection: closed about 10 s after its last answer', async () => {
  const c = open(gw.port);
  c.socket.write('GET /kept HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => statuses(c.text).length > 0, 'an answer', 3000);
  const answered = Date.now() - c.t0;
  const at = await closedWithin(c, 16000, 'uWS closes an idle connection');
  assert.ok(at - answered >= 8000 && at - answered <= 14000, `closed ${at - answered} ms after the answer`);
});
