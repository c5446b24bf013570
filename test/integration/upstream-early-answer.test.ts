import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRawUpstream, type TestUpstream } from '../helpers/upstream.js';

// Issue 21, class 9: an upstream that answers before reading the whole request body (413, 401...).
// The client used to get that answer without `Connection: close` on a connection whose framing still
// expected the rest of the body. Now: the answer says close and the gateway closes the connection
// after it (answers up to 64 KiB that end within 100 ms; a larger or longer one says close and the
// client closes). Raw sockets, so what the client sees is exactly the bytes on the wire.

const BIG = 200 * 1024;

let upstream: TestUpstream;
/** Every byte each upstream connection received, to prove nothing after the early answer went up. */
const received: string[] = [];
let gw: TestGateway;

before(async () => {
  // Answers on the first bytes of each request, by path, without reading the body; /read-all waits for
  // the whole Content-Length body first (the ordinary case, for contrast).
  upstream = await startRawUpstream((s) => {
    const k = received.push('') - 1;
    let streaming = false;
    s.on('data', (c: Buffer) => {
      received[k] += c.toString('latin1');
      const text = received[k];
      if (!text.includes('\r\n\r\n') || s.writableEnded || streaming) return;
      const path = text.split(' ')[1];
      if (path === '/read-all') {
        const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (text.length - text.indexOf('\r\n\r\n') - 4 < length) return;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nread');
        received[k] = '';
      } else if (path === '/empty-401') {
        s.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      } else if (path === '/big') {
        s.end(`HTTP/1.1 413 Payload Too Large\r\nContent-Length: ${BIG}\r\n\r\n${'b'.repeat(BIG)}`);
      } else if (path === '/duplex') {
        // Streams its answer while the upload goes on: the first piece now, the rest never (test ends).
        streaming = true;
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
      } else if (path === '/duplex-head') {
        streaming = true;
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      } else if (path === '/chunked-413') {
        s.end('HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntoo \r\n5\r\nlarge\r\n0\r\n\r\n');
      } else {
        s.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large');
      }
    });
  });
  gw = await startGateway(
    `
limits: { allow_chunked_requests: true }
upstreams:
  up: { endpoints: [ { url: "${upstream.origin}" } ], health: { passive: { consecutive_failures: 0 } } }
routes:
  - { name: all, match: { prefix: / }, upstream: up }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await upstream.close();
});

interface Client {
  readonly socket: Socket;
  text(): string;
  readonly closed: Promise<void>;
}

function client(): Client {
  const socket = connect(gw.port, '127.0.0.1');
  let text = '';
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => text, closed };
}

/** Resolves true when the connection closed within `ms`. */
const closedWithin = (c: Client, ms: number) => Promise.race([c.closed.then(() => true), sleep(ms).then(() => false)]);

/** The head of the first response in `text`, lower-cased. */
const headOf = (text: string) => text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

for (const [name, head, part] of [
  ['Content-Length', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', 'a'.repeat(1000)],
  ['chunked', 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', `3e8\r\n${'a'.repeat(1000)}\r\n`],
] as const) {
  test(`an early 413 to a ${name} upload says Connection: close, the connection closes, nothing more goes upstream`, async () => {
    const from = received.length;
    const c = client();
    c.socket.write(head + part);
    assert.ok(await closedWithin(c, 3000), `the gateway closed the connection; got ${JSON.stringify(c.text())}`);
    const text = c.text();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(headOf(text), /\r\nconnection: close(\r\n|$)/);
    assert.ok(text.endsWith('\r\n\r\ntoo large'), text);
    // Whatever the client sends next never becomes a request.
    c.socket.write(SMUGGLED);
    await sleep(200);
    assert.ok(!received.slice(from).join('').includes('/smuggled'));
  });
}

test('an early answer with an empty body (401, Content-Length: 0) says close too', async () => {
  const c = client();
  c.socket.write('POST /empty-401 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc');
  assert.ok(await closedWithin(c, 3000));
  assert.match(c.text(), /^HTTP\/1\.1 401 /);
  assert.match(headOf(c.text()), /\r\nconnection: close(\r\n|$)/);
  assert.match(headOf(c.text()), /\r\ncontent-length: 0(\r\n|$)/);
});

test('an early chunked answer is relayed whole with Connection: close', async () => {
  const c = client();
  c.socket.write('POST /chunked-413 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc');
  assert.ok(await closedWithin(c, 3000));
  assert.match(headOf(c.text()), /\r\nconnection: close(\r\n|$)/);
  assert.ok(c.text().endsWith('\r\n\r\ntoo large'), c.text());
});

test('an early answer larger than 64 KiB is streamed whole, its head saying Connection: close', async () => {
  const c = client();
  c.socket.write('POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc');
  const bodyBytes = () => (c.text().includes('\r\n\r\n') ? c.text().length - c.text().indexOf('\r\n\r\n') - 4 : 0);
  for (let k = 0; k < 100 && bodyBytes() < BIG; k++) await sleep(30);
  const text = c.text();
  assert.match(text, /^HTTP\/1\.1 413 /);
  assert.match(headOf(text), /\r\nconnection: close(\r\n|$)/);
  assert.equal(bodyBytes(), BIG, 'the whole body');
  c.socket.destroy();
});

test('an answer after the whole body was read keeps the connection: no Connection: close, a next request works', async () => {
  const c = client();
  c.socket.write('POST /read-all HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n' + 'z'.repeat(3000));
  for (let k = 0; k < 100 && !c.text().endsWith('read'); k++) await sleep(20);
  assert.doesNotMatch(headOf(c.text()), /connection: close/);
  c.socket.write('POST /read-all HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nzz');
  for (let k = 0; k < 100 && c.text().split('HTTP/1.1 200').length < 3; k++) await sleep(20);
  assert.equal(c.text().split('HTTP/1.1 200').length, 3, c.text());
  assert.equal(await closedWithin(c, 100), false);
  c.socket.destroy();
});

test('an answer streamed while the upload goes on is held back at most 100 ms, then streamed saying Connection: close', async () => {
  const c = client();
  const t = performance.now();
  c.socket.write('POST /duplex HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc');
  for (let k = 0; k < 100 && !c.text().includes('first'); k++) await sleep(10);
  const ms = performance.now() - t;
  assert.ok(c.text().includes('\r\n\r\n5\r\nfirst'), c.text());
  assert.ok(ms < 600, `first piece after ${Math.round(ms)} ms`);
  assert.match(headOf(c.text()), /\r\nconnection: close(\r\n|$)/);
  c.socket.destroy();
});

test('an early head with no body yet goes out after 100 ms with Connection: close (uWS ends a head with the first body bytes)', async () => {
  const c = client();
  c.socket.write('POST /duplex-head HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc');
  for (let k = 0; k < 100 && !c.text().includes('connection: close'); k++) await sleep(10);
  assert.match(c.text(), /^HTTP\/1\.1 200 /);
  assert.match(c.text(), /\r\nconnection: close\r\n$/, 'the head so far, still open for the framing uWS adds');
  c.socket.destroy();
});
