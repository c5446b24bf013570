import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, type Reply, rawExchange, request, statuses } from '../helpers/http.js';
import { type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// sluice's own HTTP/1.1 upstream client (src/upstream/http1/), seen from a client of the gateway,
// against upstreams that write exact bytes: framing is relayed intact, broken framing is a 502 and
// the connection is never reused, stale keep-alive connections are survived, pipelining keeps order.

/** Write `pieces` one TCP write at a time, `gapMs` apart. */
async function writeSlowly(s: Socket, pieces: string[], gapMs: number, end = false): Promise<void> {
  for (const p of pieces) {
    if (s.destroyed) return;
    s.write(p, 'latin1');
    await sleep(gapMs);
  }
  if (end && !s.destroyed) s.end();
}

const answer = (body: string, ...fields: string[]) =>
  ['HTTP/1.1 200 OK', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, ...fields].join('\r\n') + '\r\n\r\n' + body;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

// Chunked answers written in awkward pieces: mid-head, mid-size line, between CR and LF, mid-data.
const CHUNKED_PIECES = [
  'HTTP/1.1 200 OK\r\nContent-Ty',
  'pe: text/plain\r\nTransfer-Encoding: chun',
  'ked\r\n\r',
  '\n',
  '5;ext=1\r',
  '\nhel',
  'lo\r\n',
  '6\r\n world',
  '\r',
  '\n1',
  'A\r\n',
  ALPHABET.slice(0, 10),
  ALPHABET.slice(10) + '\r\n',
  '0\r\nX-Trailer: t\r',
  '\n\r\n',
];
const CHUNKED_DATA = 'hello world' + ALPHABET;

let chunked: ScriptedUpstream;
let malformed: ScriptedUpstream;
let untilClose: ScriptedUpstream;
let interim: ScriptedUpstream;
let stale: ScriptedUpstream;
let head: ScriptedUpstream;
let extra: ScriptedUpstream;
let slow: ScriptedUpstream;
let pipelined: TestUpstream;
let pipelinedRaw: ScriptedUpstream;
let pipelinedInFlight = 0;
let pipelinedMaxInFlight = 0;
let gw: TestGateway;

before(async () => {
  chunked = await scripted((r, s) => {
    if (r.path === '/chunked/split') void writeSlowly(s, CHUNKED_PIECES, 15);
    else s.write(answer('next'));
  });

  malformed = await scripted((r, s) => {
    const bytes: Record<string, string> = {
      '/malformed/cl-te': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      '/malformed/te-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      '/malformed/cl-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
      '/malformed/obs-fold': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Folded: a\r\n b\r\n\r\nhello',
      '/malformed/chunk-size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      '/malformed/te-gzip': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      '/malformed/bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 5\n\nhello\r\n\r\n',
      '/malformed/switching': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello',
      '/malformed/huge-head': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 5\r\n\r\nhello`,
    };
    s.write(bytes[r.path] ?? answer('good'), 'latin1');
  });

  untilClose = await scripted((r, s) => {
    if (r.path === '/until-close/http10') void writeSlowly(s, ['HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n', 'one ', 'two ', 'three'], 15, true);
    else if (r.path === '/until-close/big') void writeSlowly(s, ['HTTP/1.1 200 OK\r\n\r\n', 'a'.repeat(100_000), 'b'.repeat(100_000), 'c'], 15, true);
    else void writeSlowly(s, ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n', 'first,', 'second,', 'last'], 15, true);
  });

  interim = await scripted((r, s) => {
    if (r.path === '/interim/1xx') {
      void writeSlowly(
        s,
        [
          'HTTP/1.1 100 Continue\r\n\r\n',
          'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal',
        ],
        20,
      );
    } else if (r.path === '/interim/one-write') {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n' + answer('done'));
    } else {
      s.write(answer('after'));
    }
  });

  // Answers the first request on each connection and keeps it open (no Connection: close); any later
  // request on it finds the connection closed: what a reused keep-alive connection looks like when
  // the upstream closed it as idle just as the gateway sent on it.
  stale = await scripted((r, s) => {
    if (r.nth > 1) {
      if (r.path.includes('rst')) s.resetAndDestroy();
      else s.destroy();
      return;
    }
    if (r.path.includes('close-after')) {
      s.end(answer(`${r.method} ${r.path}`));
      return;
    }
    if (r.path.includes('slow-first')) {
      setTimeout(() => {
        if (!s.destroyed) s.write(answer(`${r.method} ${r.path}`));
      }, 100);
      return;
    }
    s.write(answer(`${r.method} ${r.path}`));
  });

  head = await scripted((r, s) => {
    if (r.method === 'HEAD') s.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n');
    else s.write(answer(`after ${r.method}`));
  });

  extra = await scripted((r, s) => {
    const smuggled = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled';
    if (r.path === '/extra/same-write') s.write(answer('ok') + smuggled);
    else if (r.path === '/extra-one/slow-same-write')
      setTimeout(() => {
        if (!s.destroyed) s.write(answer('ok') + smuggled);
      }, 150);
    else if (r.path === '/extra/late') {
      s.write(answer('ok'));
      setTimeout(() => {
        if (!s.destroyed) s.write(smuggled);
      }, 30);
    } else s.write(answer(`clean ${r.path}`));
  });

  slow = await scripted((r, s) => {
    if (r.path === '/slow/no-head') return; // never answers
    if (r.path === '/slow/part-head') {
      s.write('HTTP/1.1 200 OK\r\nContent-');
      return;
    }
    if (r.path === '/slow/stall-body') {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(10));
      return;
    }
    if (r.path === '/slow/stall-chunked') {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n8\r\nefg');
      return;
    }
    // A slow but steady body: each gap is shorter than idle_ms, the whole is longer.
    if (r.path === '/slow/trickle') {
      void writeSlowly(s, ['HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n', 'ab', 'cd', 'ef', 'gh'], 250);
      return;
    }
    s.write(answer('fast'));
  });

  // Answers in request order (as pipelining requires), each after the delay its path asks for.
  const queues = new WeakMap<Socket, Promise<void>>();
  pipelinedRaw = await scripted((r, s) => {
    const delay = Number(/delay=(\d+)/.exec(r.path)?.[1] ?? 0);
    const prior = queues.get(s) ?? Promise.resolve();
    queues.set(
      s,
      prior
        .then(() => sleep(delay))
        .then(() => {
          if (!s.destroyed) s.write(answer(r.path));
        }),
    );
  });

  pipelined = await startUpstream((req, res) => {
    pipelinedInFlight++;
    pipelinedMaxInFlight = Math.max(pipelinedMaxInFlight, pipelinedInFlight);
    setTimeout(
      () => {
        pipelinedInFlight--;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(req.url);
      },
      Math.floor(Math.random() * 15),
    );
  });

  const upstream = (name: string, origin: string, more = '') =>
    `  ${name}:\n    endpoints: [ { url: "${origin}" } ]\n    health: { passive: { consecutive_failures: 0 } }\n${more}`;
  gw = await startGateway(
    `
timeouts: { connect_ms: 1000, response_header_ms: 700, idle_ms: 600 }
upstreams:
${upstream('chunked', chunked.origin)}
${upstream('malformed', malformed.origin)}
${upstream('until-close', untilClose.origin)}
${upstream('interim', interim.origin)}
${upstream('stale', stale.origin)}
${upstream('stale-two', stale.origin)}
${upstream('head', head.origin)}
${upstream('extra', extra.origin)}
${upstream('extra-one', extra.origin, '    pool: { connections: 1 }\n')}
${upstream('slow', slow.origin)}
${upstream('pipelined', pipelined.origin, '    pool: { connections: 1, pipelining: 4 }\n')}
${upstream('pipelined-raw', pipelinedRaw.origin, '    pool: { connections: 1, pipelining: 4 }\n')}
routes:
  - { name: chunked, match: { prefix: /chunked/ }, upstream: chunked }
  - { name: malformed, match: { prefix: /malformed/ }, upstream: malformed }
  - { name: until-close, match: { prefix: /until-close/ }, upstream: until-close }
  - { name: interim, match: { prefix: /interim/ }, upstream: interim }
  - { name: stale, match: { prefix: /stale/ }, upstream: stale }
  - { name: stale-two, match: { prefix: /stale-two/ }, upstream: stale-two }
  - { name: head, match: { prefix: /head/ }, upstream: head }
  - { name: extra, match: { prefix: /extra/ }, upstream: extra }
  - { name: extra-one, match: { prefix: /extra-one/ }, upstream: extra-one }
  - { name: slow, match: { prefix: /slow/ }, upstream: slow }
  - { name: pipelined, match: { prefix: /pipelined/ }, upstream: pipelined }
  - { name: pipelined-raw, match: { prefix: /pipelined-raw/ }, upstream: pipelined-raw }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  for (const u of [chunked, malformed, untilClose, interim, stale, head, extra, slow, pipelined, pipelinedRaw]) await u.close();
});

function assertError(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, r.body);
  assert.equal(json(r).error.code, code, r.body);
  assert.equal(json(r).error.request_id, r.headers['x-request-id']);
}

/** The requests an upstream saw from `from` on (those of one test). */
const since = (u: ScriptedUpstream, from: number) => u.requests.slice(from);

/** How a response that may be cut short ended: the status, what body arrived, and whether it was whole. */
function download(path: string, timeoutMs = 5000): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; complete: boolean; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(gw.url(path), { agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        body += c;
      });
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body, complete: res.complete, ms: Date.now() - started });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
      res.on('close', done);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no end of the response within ${timeoutMs} ms: the gateway hung`)));
    req.on('error', reject);
    req.end();
  });
}

// ── (a) chunked framing across reads ──────────────────────────────────────────────────────

test('a chunked answer split across many TCP writes arrives intact; the connection is then reused', async () => {
  const from = chunked.requests.length;
  const r = await request(gw.url('/chunked/split'), { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  assert.equal(r.body, CHUNKED_DATA);
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['x-trailer'], undefined, 'trailers are not relayed as headers');
  // The decoder stopped exactly at the body's end: the next answer on that connection reads clean.
  const next = await request(gw.url('/chunked/next'));
  assert.equal(next.body, 'next');
  const seen = since(chunked, from);
  assert.equal(seen.length, 2);
  assert.equal(seen[1].conn, seen[0].conn, 'a cleanly ended chunked answer leaves its connection reusable');
});

// ── (b) malformed answers ─────────────────────────────────────────────────────────────────

test('a malformed answer (CL+TE, duplicate Content-Length, obs-fold, bad chunk size, 101, a head over 64 KiB...) → 502 SLUICE_ERR_UPSTREAM_PROTOCOL; the gateway keeps serving', async () => {
  for (const kind of ['cl-te', 'te-cl', 'cl-cl', 'obs-fold', 'chunk-size', 'te-gzip', 'bare-lf', 'switching', 'huge-head']) {
    const from = malformed.requests.length;
    const r = await request(gw.url(`/malformed/${kind}`), { timeoutMs: 5000 });
    assertError(r, 502, 'SLUICE_ERR_UPSTREAM_PROTOCOL');
    assert.ok(!r.body.includes('hello'), `${kind}: nothing of the malformed body reaches the client`);
    const good = await request(gw.url('/malformed/good'), { timeoutMs: 5000 });
    assert.equal(good.status, 200, kind);
    assert.equal(good.body, 'good', kind);
    const seen = since(malformed, from);
    assert.equal(seen.length, 2, `${kind}: the malformed answer's request was not sent twice`);
    assert.notEqual(seen[1].conn, seen[0].conn, `${kind}: a connection with broken framing is never reused`);
  }
  const line = await gw.waitForLog((l) => l.msg === 'upstream error' && l.code === 'SLUICE_ERR_UPSTREAM_PROTOCOL' && l.upstream === 'malformed');
  assert.equal(typeof line.cause, 'string');
});

// ── (c) a body delimited by the connection's close ────────────────────────────────────────

test('a body delimited by the upstream closing the connection is relayed whole', async () => {
  const r = await request(gw.url('/until-close/http11'), { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'first,second,last');
  assert.equal(r.headers['content-type'], 'text/plain');
  const r10 = await request(gw.url('/until-close/http10'), { timeoutMs: 5000 });
  assert.equal(r10.status, 200);
  assert.equal(r10.body, 'one two three');
  const big = await request(gw.url('/until-close/big'), { timeoutMs: 5000 });
  assert.equal(big.body.length, 200_001);
  assert.equal(big.body, 'a'.repeat(100_000) + 'b'.repeat(100_000) + 'c');
});

// ── (d) interim answers ───────────────────────────────────────────────────────────────────

test('100 Continue and 103 Early Hints before the 200 are not relayed; the 200 is', async () => {
  const from = interim.requests.length;
  const raw = await rawExchange(gw.port, 'GET /interim/1xx HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  assert.deepEqual(statuses(raw.text), [200], raw.text);
  assert.match(raw.text, /\r\nx-final: yes\r\n/i);
  assert.doesNotMatch(raw.text, /link:|style\.css/i, "the 103's headers are not the 200's");
  assert.ok(raw.text.endsWith('final') || raw.text.includes('\r\n\r\n5\r\nfinal\r\n'), raw.text);

  const one = await request(gw.url('/interim/one-write'), { timeoutMs: 5000 });
  assert.equal(one.status, 200);
  assert.equal(one.body, 'done');
  assert.equal(one.headers.link, undefined);
  // The connection is still in step after reading past the interim heads.
  const next = await request(gw.url('/interim/next'));
  assert.equal(next.body, 'after');
  const seen = since(interim, from);
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen.map((s) => s.conn)).size, 1, 'one connection served all three');
});

// ── (e) stale keep-alive connections ──────────────────────────────────────────────────────

test('a GET on a reused connection the upstream closed is sent again once on a new one → 200', async () => {
  const from = stale.requests.length;
  const first = await request(gw.url('/stale/first'));
  assert.equal(first.status, 200);
  assert.equal(first.body, 'GET /stale/first');
  const second = await request(gw.url('/stale/second'), { timeoutMs: 5000 });
  assert.equal(second.status, 200, second.body);
  assert.equal(second.body, 'GET /stale/second');
  const seen = since(stale, from).filter((s) => s.path === '/stale/second');
  assert.equal(seen.length, 2, 'sent on the stale connection, then once more on a fresh one');
  assert.equal(seen[0].nth, 2);
  assert.equal(seen[1].nth, 1);
  // The same when the stale connection answers with a reset instead of a FIN.
  const rst = await request(gw.url('/stale/rst'), { timeoutMs: 5000 });
  assert.equal(rst.status, 200, rst.body);
  assert.equal(rst.body, 'GET /stale/rst');
  assert.deepEqual(
    since(stale, from)
      .filter((s) => s.path === '/stale/rst')
      .map((s) => s.nth),
    [2, 1],
  );
});

test('a POST on a reused connection the upstream closed is not sent again → 502', async () => {
  const warm = await request(gw.url('/stale/warm'));
  assert.equal(warm.status, 200);
  const from = stale.requests.length;
  const r = await request(gw.url('/stale/post'), { method: 'POST', body: 'payload', timeoutMs: 5000 });
  assertError(r, 502, 'SLUICE_ERR_UPSTREAM_RESET');
  await sleep(100);
  assert.deepEqual(
    since(stale, from).map((s) => `${s.method} ${s.path}`),
    ['POST /stale/post'],
    'a POST is never repeated by the client',
  );
});

test('a GET resent after a stale connection goes to a new connection, not to another idle one closed as well', async () => {
  // Two requests at once leave two idle connections; the upstream has closed both (say it restarted,
  // or its keep-alive timeout ended both) and the gateway has not seen either close yet.
  const warm = await Promise.all([request(gw.url('/stale-two/slow-first/a')), request(gw.url('/stale-two/slow-first/b'))]);
  assert.deepEqual(
    warm.map((r) => r.status),
    [200, 200],
  );
  const from = stale.requests.length;
  assert.equal(stale.connections() >= 2, true);
  const r = await request(gw.url('/stale-two/after-restart'), { timeoutMs: 5000 });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, 'GET /stale-two/after-restart');
  const seen = since(stale, from);
  assert.equal(seen.length, 2, `sent on the stale connection, then once on a fresh one: ${JSON.stringify(seen)}`);
  assert.equal(seen[1].nth, 1, 'the resend went out on a new connection');
});

test('an upstream that closes each connection right after answering (no Connection: close): every GET gets 200', async () => {
  for (let i = 0; i < 8; i++) {
    const r = await request(gw.url(`/stale/close-after/${i}`), { timeoutMs: 5000 });
    assert.equal(r.status, 200, `request ${i}: ${r.body}`);
    assert.equal(r.body, `GET /stale/close-after/${i}`);
    if (i % 2 === 1) await sleep(5);
  }
});

// ── (f) HEAD ──────────────────────────────────────────────────────────────────────────────

test('a HEAD answered with Content-Length and no body does not hang, and the connection stays in step', async () => {
  const from = head.requests.length;
  const started = Date.now();
  const r = await request(gw.url('/head/x'), { method: 'HEAD', timeoutMs: 3000 });
  assert.ok(Date.now() - started < 2000, 'the HEAD answer ended at its head');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['content-length'], '1234', 'a HEAD answer repeats the length a GET would have');
  const next = await request(gw.url('/head/y'), { timeoutMs: 3000 });
  assert.equal(next.status, 200);
  assert.equal(next.body, 'after GET');
  const seen = since(head, from);
  assert.deepEqual(
    seen.map((s) => s.method),
    ['HEAD', 'GET'],
  );
  assert.equal(seen[1].conn, seen[0].conn, "the GET reused the HEAD's connection: no body bytes were expected after the HEAD");
});

// ── (g) bytes after a complete answer ─────────────────────────────────────────────────────

test('extra bytes after a complete answer: the connection is not reused and the bytes reach no client', async () => {
  for (const path of ['/extra/same-write', '/extra/late']) {
    const from = extra.requests.length;
    const r = await request(gw.url(path), { timeoutMs: 5000 });
    assert.equal(r.status, 200, path);
    assert.equal(r.body, 'ok', path);
    await sleep(150);
    const next = await request(gw.url(`${path}/next`), { timeoutMs: 5000 });
    assert.equal(next.status, 200, path);
    assert.equal(next.body, `clean ${path}/next`, `${path}: the next client got its own answer, not the stray bytes`);
    const seen = since(extra, from);
    assert.equal(seen.length, 2, path);
    assert.notEqual(seen[1].conn, seen[0].conn, `${path}: the connection that sent stray bytes was dropped`);
  }
});

test('extra bytes after an answer, with a request queued for that connection: the queued one gets its own answer', async () => {
  // pool: { connections: 1 }: the second request waits for the first one's connection.
  const from = extra.requests.length;
  const first = request(gw.url('/extra-one/slow-same-write'), { timeoutMs: 5000 });
  await sleep(50);
  const queued = request(gw.url('/extra-one/queued'), { timeoutMs: 5000 });
  const [a, b] = await Promise.all([first, queued]);
  assert.equal(a.body, 'ok');
  assert.equal(b.status, 200);
  assert.equal(b.body, 'clean /extra-one/queued', "the stray bytes were not taken for the queued request's answer");
  const seen = since(extra, from);
  assert.deepEqual(
    seen.map((s) => s.path),
    ['/extra-one/slow-same-write', '/extra-one/queued'],
  );
  assert.notEqual(seen[1].conn, seen[0].conn);
});

// ── (h) pipelining ────────────────────────────────────────────────────────────────────────

test('pipelining (1 connection, 4 in flight): 20 concurrent GETs each get their own answer', async () => {
  pipelinedMaxInFlight = 0;
  const paths = Array.from({ length: 20 }, (_, i) => `/pipelined/req-${i}?n=${i}`);
  const replies = await Promise.all(paths.map((p) => request(gw.url(p), { timeoutMs: 10_000 })));
  replies.forEach((r, i) => {
    assert.equal(r.status, 200, paths[i]);
    assert.equal(r.body, paths[i], "no answer went to another request's client");
  });
  assert.ok(pipelinedMaxInFlight > 1, `the upstream saw at most ${pipelinedMaxInFlight} request(s) at once: nothing was pipelined`);
  assert.ok(pipelinedMaxInFlight <= 4, `the upstream saw ${pipelinedMaxInFlight} requests at once, more than pipelining: 4`);
});

test('pipelining: a client that goes away does not fail the request pipelined ahead of its own', async () => {
  const from = pipelinedRaw.requests.length;
  const first = request(gw.url('/pipelined-raw/first?delay=400'), { timeoutMs: 5000 });
  await sleep(50);
  // The second request is pipelined behind the first on the one connection; its client leaves.
  const leaving = httpRequest(gw.url('/pipelined-raw/leaving'), { agent: false });
  leaving.on('error', () => {});
  leaving.end();
  await sleep(150);
  const seen = since(pipelinedRaw, from);
  assert.deepEqual(
    seen.map((s) => `${s.path}@${s.conn}`),
    [`/pipelined-raw/first?delay=400@${seen[0].conn}`, `/pipelined-raw/leaving@${seen[0].conn}`],
    'both requests went out on the one connection',
  );
  leaving.destroy();
  const r = await first;
  assert.equal(r.status, 200, `the first client got ${r.status} ${r.body} because another client left`);
  assert.equal(r.body, '/pipelined-raw/first?delay=400');
});

// ── (i) timeouts ──────────────────────────────────────────────────────────────────────────

test('no response head within response_header_ms → 504 SLUICE_ERR_UPSTREAM_TIMEOUT (also for a head cut off midway)', async () => {
  for (const path of ['/slow/no-head', '/slow/part-head']) {
    const started = Date.now();
    const r = await request(gw.url(path), { timeoutMs: 5000 });
    const ms = Date.now() - started;
    assertError(r, 504, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
    assert.ok(ms >= 600 && ms < 3000, `${path}: answered after ${ms} ms, response_header_ms is 700`);
  }
  assert.equal((await request(gw.url('/slow/fast'))).body, 'fast');
});

test('a body that stalls longer than idle_ms is cut: the client sees a truncated body, not a hang', async () => {
  const r = await download('/slow/stall-body');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'x'.repeat(10));
  assert.equal(r.complete, false, 'the client can tell the body was cut short');
  assert.ok(r.ms >= 500 && r.ms < 3000, `cut after ${r.ms} ms, idle_ms is 600`);

  const c = await download('/slow/stall-chunked');
  assert.equal(c.status, 200);
  assert.equal(c.complete, false);
  assert.ok(c.body.length < 12, 'no more than what the upstream sent');
  assert.ok(c.ms >= 500 && c.ms < 3000, `cut after ${c.ms} ms, idle_ms is 600`);
});

test('a slow but steady body (every gap below idle_ms) is not cut', async () => {
  const r = await download('/slow/trickle');
  assert.equal(r.status, 200);
  assert.equal(r.complete, true);
  assert.equal(r.body, 'abcdefgh');
  assert.ok(r.ms >= 900, 'the body took longer than idle_ms in all');
});

test('the gateway wrote nothing to stderr', () => {
  assert.equal(gw.stderr.join(''), '');
});
