import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const config = (origin: string) => `
upstreams:
  u: { endpoints: [ { url: "${origin}" } ] }
routes:
  - { name: api, match: { prefix: /api/ }, upstream: u }
`;

/** A raw keep-alive connection: what arrived, and how and when it ended ('end' = FIN, else the error code). */
interface Conn {
  readonly socket: Socket;
  text: string;
  ended: Promise<{ how: string; at: number }>;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const conn: Conn = { socket, text: '', ended: null as never };
    conn.ended = new Promise((done) => {
      // 'end' before any 'error': the gateway closed with a FIN, not a reset.
      socket.once('end', () => done({ how: 'end', at: Date.now() }));
      socket.once('error', (err: NodeJS.ErrnoException) => done({ how: err.code ?? err.message, at: Date.now() }));
    });
    socket.on('data', (c: Buffer) => {
      conn.text += c.toString('latin1');
    });
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

async function send(c: Conn, path: string): Promise<void> {
  const before = c.text.length;
  c.socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  while (!complete(c.text.slice(before))) await sleep(5);
}

/** A whole response with Content-Length or chunked framing (enough for these tests). */
function complete(raw: string): boolean {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) return false;
  const head = raw.slice(0, headEnd).toLowerCase();
  const body = raw.slice(headEnd + 4);
  const length = /\r\ncontent-length: (\d+)/.exec(head);
  if (length !== null) return body.length >= Number(length[1]);
  return /\r\ntransfer-encoding: chunked/.test(head) ? body.endsWith('0\r\n\r\n') : true;
}

function bodyOf(raw: string): string {
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

/** Decode a chunked body strictly: every size line hex, every chunk followed by CRLF. */
function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const nl = body.indexOf('\r\n', at);
    const size = body.slice(at, nl);
    assert.match(size, /^[0-9a-f]+$/i, `chunk size line ${JSON.stringify(size)}`);
    const n = Number.parseInt(size, 16);
    if (n === 0) return out;
    out += body.slice(nl + 2, nl + 2 + n);
    assert.equal(body.slice(nl + 2 + n, nl + 4 + n), '\r\n', 'CRLF after chunk data');
    at = nl + 4 + n;
  }
}

test('SIGTERM with nothing in flight: idle keep-alive connections get a FIN within a second', async () => {
  const up = await startUpstream();
  const gw = await startGateway(config(up.origin));
  const idle = await Promise.all(Array.from({ length: 6 }, () => open(gw.port)));
  for (const c of idle) await send(c, '/api/x');
  const t0 = Date.now();
  gw.proc.kill('SIGTERM');
  const ends = await Promise.all(idle.map((c) => c.ended));
  for (const e of ends) {
    assert.equal(e.how, 'end');
    assert.ok(e.at - t0 < 1000, `closed ${e.at - t0} ms after SIGTERM`);
  }
  assert.equal(await gw.exited, 0);
  await up.close();
});

test('SIGTERM with slow requests in flight: their responses say Connection: close and arrive whole; nothing is reset', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/api/stream-early' || req.url === '/api/stream-late') {
      // Chunked: the head and a first piece before the signal (early) or after it (late), the rest later.
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first ');
          setTimeout(() => res.end('last'), 600);
        },
        req.url === '/api/stream-early' ? 0 : 600,
      );
    } else if (req.url === '/api/slow') {
      setTimeout(() => res.end('slow done'), 1200);
    } else {
      res.end('ok');
    }
  });
  const gw = await startGateway(config(up.origin), { SLUICE_WORKERS: '1' });
  t.after(async () => {
    gw.proc.kill('SIGKILL');
    await up.close();
  });
  const idle = await Promise.all(Array.from({ length: 4 }, () => open(gw.port)));
  for (const c of idle) await send(c, '/api/x');
  const slow = await open(gw.port);
  const early = await open(gw.port);
  const late = await open(gw.port);
  const slowDone = send(slow, '/api/slow');
  const earlyDone = send(early, '/api/stream-early');
  const lateDone = send(late, '/api/stream-late');
  await sleep(300);
  const t0 = Date.now();
  gw.proc.kill('SIGTERM');
  await gw.waitForLog((l) => l.msg === 'draining');
  await sleep(100);
  // An idle connection that sends a request while draining is answered, and told to close.
  const woken = idle.pop()!;
  const before = woken.text.length;
  await send(woken, '/api/x');
  assert.match(woken.text.slice(before), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(woken.text.slice(before), /\r\nconnection: close\r\n/i);

  await Promise.all([slowDone, earlyDone, lateDone]);
  const lastResponse = Date.now();
  // Heads written after the signal say close, whatever the body's framing.
  assert.match(slow.text, /\r\nconnection: close\r\n/i);
  assert.ok(slow.text.endsWith('\r\n\r\nslow done'), slow.text);
  assert.match(late.text, /\r\nconnection: close\r\n/i);
  assert.equal(dechunk(bodyOf(late.text)), 'first last', 'the chunked body is intact');
  // A head sent before the signal cannot say it any more; its chunked body must still end cleanly
  // (uWS's end(…, closeConnection) wrote "Connection: close" into the body here).
  assert.doesNotMatch(early.text, /\r\nconnection: close\r\n/i);
  assert.equal(dechunk(bodyOf(early.text)), 'first last', 'the chunked body is intact');

  const ends = await Promise.all([...idle, woken, slow, early, late].map((c) => c.ended));
  for (const e of ends) {
    assert.equal(e.how, 'end', 'a FIN, never a reset');
    // uWS 20.30 closes an App's idle connections only together with the rest: once nothing is in flight.
    assert.ok(e.at - lastResponse < 1000, `closed ${e.at - lastResponse} ms after the last response (${e.at - t0} ms after SIGTERM)`);
  }
  assert.equal(await gw.exited, 0);
  assert.equal(gw.logs.find((l) => l.msg === 'stopped')?.abandoned, 0);
});

test('SIGTERM while upstreams answer before reading the body: each answer says Connection: close exactly once', async (t) => {
  // The upstream answers 800 ms after the head, without reading the body (an early answer), after the signal.
  const up = await startUpstream((req, res) => {
    setTimeout(() => {
      if (req.url === '/api/early-413') res.writeHead(413, { 'content-length': '5' }).end('nope\n');
      else if (req.url === '/api/early-204') res.writeHead(204).end();
      else res.writeHead(403, { 'content-type': 'text/plain' }).end('x'.repeat(100_000)); // too large to hold
    }, 800);
  });
  const gw = await startGateway(config(up.origin), { SLUICE_WORKERS: '1' });
  t.after(async () => {
    gw.proc.kill('SIGKILL');
    await up.close();
  });
  const paths = ['/api/early-413', '/api/early-204', '/api/early-big'];
  const conns = await Promise.all(paths.map(() => open(gw.port)));
  paths.forEach((p, i) => conns[i].socket.write(`POST ${p} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc`));
  await sleep(300);
  gw.proc.kill('SIGTERM');
  await Promise.all(conns.map((c) => c.ended));
  for (const [i, c] of conns.entries()) {
    const head = c.text.slice(0, c.text.indexOf('\r\n\r\n'));
    assert.match(head, /^HTTP\/1\.1 (413|204|403) /, paths[i]);
    assert.equal(head.match(/\r\nconnection:/gi)?.length, 1, `${paths[i]}: ${head}`);
    assert.match(head, /\r\nconnection: close(\r\n|$)/i, paths[i]);
  }
  assert.equal(await gw.exited, 0);
});
