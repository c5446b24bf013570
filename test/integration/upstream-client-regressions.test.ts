import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawExchange, request, statuses } from '../helpers/http.js';
import { type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Regressions in sluice's own HTTP/1.1 upstream client (src/upstream/http1/) found in review, each
// over real loopback sockets, each asserting what the upstream actually received:
//   (1) header values with characters above U+00FF written upstream as latin1 (U+010D U+010A → CR LF:
//       request smuggling); (2) the same through the query, plus a query with DEL; (3) with
//   pipelining, a try written twice when a connection opened (answers to the wrong clients); (4) a
//   streamed upload on a reused keep-alive connection cut by the keep-alive deadline; (5) a try whose
//   body stream was already destroyed (413 while queued) hanging its connection for good.

const answer = (body: string, ...fields: string[]) =>
  ['HTTP/1.1 200 OK', `Content-Length: ${Buffer.byteLength(body)}`, ...fields].join('\r\n') + '\r\n\r\n' + body;

/** The requests an upstream saw from `from` on (those of one test). */
const since = (u: ScriptedUpstream, from: number) => u.requests.slice(from);

/** The value bytes of the (first) header `name` in a raw request head, or null. */
function headerBytes(head: Buffer, name: string): Buffer | null {
  const text = head.toString('latin1');
  for (const line of text.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name) return Buffer.from(line.slice(colon + 1).trim(), 'latin1');
  }
  return null;
}

/** The JSON body of one raw (latin1) response. */
const rawJson = (text: string): any => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

let smuggle: ScriptedUpstream;
let query: ScriptedUpstream;
let pipe: ScriptedUpstream;
let upload: ScriptedUpstream;
let single: TestUpstream;
let gw: TestGateway;

before(async () => {
  // (1): answers in request order on each connection, at once, except the path a smuggled request
  // would carry: that one after 400 ms, so that (with latin1 heads) its answer, and the order of
  // everything after it, would go to the next client of the pooled connection.
  const smuggleQueues = new WeakMap<Socket, Promise<void>>();
  smuggle = await scripted((r, s) => {
    const admin = r.path.startsWith('/smuggle/admin');
    const prior = smuggleQueues.get(s) ?? Promise.resolve();
    smuggleQueues.set(
      s,
      prior
        .then(() => (admin ? sleep(400) : undefined))
        .then(() => {
          if (!s.destroyed) s.write(answer(admin ? 'SECRET admin answer' : r.path));
        }),
    );
  });

  query = await scripted((_r, s) => {
    s.write(answer('query ok'));
  });

  // (3): answers in request order, 30 ms each; the first connection's first answer says
  // Connection: close and the connection ends, so the tries behind it need a new connection.
  const pipeQueues = new WeakMap<Socket, Promise<void>>();
  pipe = await scripted((r, s) => {
    if (r.conn === 1 && r.nth > 1) return; // after its Connection: close, conn 1 reads nothing more
    const prior = pipeQueues.get(s) ?? Promise.resolve();
    pipeQueues.set(
      s,
      prior
        .then(() => sleep(30))
        .then(() => {
          if (s.destroyed) return;
          if (r.conn === 1) s.end(answer(r.path, 'Connection: close'));
          else s.write(answer(r.path));
        }),
    );
  });

  upload = await scripted((r, s) => {
    s.write(answer(`${r.method} ${r.path} ${r.body.toString('latin1')}`));
  });

  // (5): drains the body; /single/slow is answered after 300 ms so a second request has to queue.
  single = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end(`ok ${req.url}`), req.url === '/single/slow' ? 300 : 0));
  });

  const upstream = (name: string, origin: string, pool = '') =>
    `  ${name}:\n    endpoints: [ { url: "${origin}" } ]\n    health: { passive: { consecutive_failures: 0 } }\n${pool ? `    pool: ${pool}\n` : ''}`;
  gw = await startGateway(
    `
limits: { allow_chunked_requests: true, max_body_bytes: 16 }
timeouts: { connect_ms: 1000, response_header_ms: 3000, idle_ms: 3000, drain_ms: 1000 }
upstreams:
${upstream('smuggle', smuggle.origin, '{ connections: 1 }')}
${upstream('query', query.origin)}
${upstream('pipe', pipe.origin, '{ connections: 1, pipelining: 2 }')}
${upstream('upload', upload.origin, '{ connections: 1, keepalive_ms: 500 }')}
${upstream('single', `http://127.0.0.1:${single.port}`, '{ connections: 1 }')}
routes:
  - { name: smuggle, match: { prefix: /smuggle/ }, upstream: smuggle }
  - { name: query, match: { prefix: /q/ }, upstream: query }
  - { name: pipe, match: { prefix: /pipe/ }, upstream: pipe }
  - { name: upload, match: { prefix: /upload/ }, upstream: upload }
  - { name: single, match: { prefix: /single/ }, upstream: single }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  // Bounded: a gateway stuck on a hung connection (the old behaviour of (5)) is killed.
  const code = await Promise.race([gw.stop(), sleep(5000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    gw.proc.kill('SIGKILL');
    await gw.exited;
  }
  for (const u of [smuggle, query, pipe, upload, single]) await u.close();
  assert.equal(code, 0, 'the gateway stopped cleanly');
});

// ── (1) header values above U+00FF ───────────────────────────────────────────────────────

test('a header value with U+010D U+010A (UTF-8 bytes from the client) reaches the upstream as those bytes, in one request: no CR LF, no smuggled request', async () => {
  const X = '\u010d\u010a';
  // What uWS hands the gateway as the value of X-A (it decodes header bytes as UTF-8). Written as
  // latin1, U+010D U+010A would be CR LF and this would end the head and start GET /smuggle/admin.
  const value = `v${X}Host: a${X}${X}GET /smuggle/admin HTTP/1.1${X}Host: internal${X}X-Pad: x`;
  const from = smuggle.requests.length;
  const raw = Buffer.concat([
    Buffer.from('GET /smuggle/public HTTP/1.1\r\nHost: a\r\nX-A: ', 'latin1'),
    Buffer.from(value, 'utf8'),
    Buffer.from('\r\n\r\n', 'latin1'),
  ]);
  const attacker = await rawExchange(gw.port, raw, 300);
  assert.deepEqual(statuses(attacker.text), [200], attacker.text);
  assert.ok(attacker.text.endsWith('\r\n\r\n/smuggle/public'), attacker.text);

  // A second client through the same (single) pooled connection gets its own answer.
  const victim = await request(gw.url('/smuggle/victim'), { timeoutMs: 5000 });
  assert.equal(victim.status, 200);
  assert.equal(victim.body, '/smuggle/victim', "the next client on the pooled connection got another request's answer");
  await sleep(300);

  const seen = since(smuggle, from);
  assert.deepEqual(
    seen.map((r) => r.path),
    ['/smuggle/public', '/smuggle/victim'],
    `the upstream must see exactly the two requests that were sent, saw ${JSON.stringify(seen.map((r) => r.line.toString('latin1')))}`,
  );
  const got = headerBytes(seen[0].head, 'x-a');
  assert.ok(got !== null, `no x-a header in ${JSON.stringify(seen[0].head.toString('latin1'))}`);
  assert.equal(got.toString('hex'), Buffer.from(value, 'utf8').toString('hex'), 'the value arrives as the UTF-8 bytes the client sent');
  assert.ok(!got.includes(0x0d) && !got.includes(0x0a), 'no CR or LF inside the value');
  assert.equal(headerBytes(seen[0].head, 'x-pad'), null, 'no header line was split off the value');
});

// ── (2) the query ────────────────────────────────────────────────────────────────────────

test('a query with DEL → 400 SLUICE_ERR_BAD_PATH; nothing reaches the upstream', async () => {
  // SP, HTAB and the other controls in the request line are refused by uWS itself (connection
  // closed); DEL reaches sluice, which must not forward it into the upstream request line.
  const from = query.requests.length;
  const r = await rawExchange(gw.port, Buffer.from('GET /q/del?a=\x7fb HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'), 300);
  assert.deepEqual(statuses(r.text), [400], r.text);
  assert.equal(rawJson(r.text).error.code, 'SLUICE_ERR_BAD_PATH', r.text);
  // And one whose DEL is percent-encoded is fine (the refusal is about the raw byte only).
  const ok = await request(gw.url('/q/encoded?a=%7Fb'), { timeoutMs: 5000 });
  assert.equal(ok.status, 200, ok.body);
  await sleep(100);
  assert.deepEqual(
    since(query, from).map((s) => s.line.toString('latin1')),
    ['GET /q/encoded?a=%7Fb HTTP/1.1'],
    'only the valid request reached the upstream',
  );
});

test('a query with non-ASCII UTF-8 (é € 😀, and U+0120 U+010D U+010A that latin1 folds into SP CR LF) reaches the upstream as one request with the same bytes', async () => {
  const X = '\u010d\u010a',
    S = '\u0120';
  const cases: Array<[string, Buffer]> = [
    ['utf8', Buffer.from('/q/utf8?name=\u00e9\u20ac\u{1F600}&x=1', 'utf8')],
    // The reviewer's request-line injection: with latin1 the upstream saw "GET /q/inject?a=1" and
    // then a second request, GET /q/admin.
    ['inject', Buffer.from(`/q/inject?a=1${S}HTTP/1.1${X}Host:${S}a${X}${X}GET${S}/q/admin?`, 'utf8')],
  ];
  for (const [name, target] of cases) {
    const from = query.requests.length;
    const raw = Buffer.concat([Buffer.from('GET ', 'latin1'), target, Buffer.from(' HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1')]);
    const r = await rawExchange(gw.port, raw, 300);
    assert.deepEqual(statuses(r.text), [200], `${name}: ${r.text}`);
    await sleep(100);
    const seen = since(query, from);
    assert.equal(seen.length, 1, `${name}: the upstream saw ${JSON.stringify(seen.map((s) => s.line.toString('latin1')))}`);
    assert.equal(
      seen[0].line.toString('hex'),
      Buffer.concat([Buffer.from('GET ', 'latin1'), target, Buffer.from(' HTTP/1.1', 'latin1')]).toString('hex'),
      `${name}: the request line carries the client's bytes unchanged`,
    );
  }
});

// ── (3) pipelining: each try written once ────────────────────────────────────────────────

test('pipelining 2 on 1 connection, the first connection closing after one answer: 8 concurrent clients each get their own answer, and no request is written twice', async () => {
  const from = pipe.requests.length;
  const paths = Array.from({ length: 8 }, (_, i) => `/pipe/req-${i}`);
  const replies = await Promise.all(paths.map((p) => request(gw.url(p), { timeoutMs: 5000 }).catch((e: Error) => ({ status: 0, body: `ERR ${e.message}` }))));
  const seen = since(pipe, from);
  const log = seen.map((r) => `${r.conn}:${r.path}`).join(' ');
  replies.forEach((r, i) => {
    assert.equal(r.status, 200, `${paths[i]}: ${r.body} (upstream saw ${log})`);
    assert.equal(r.body, paths[i], `${paths[i]} got another client's answer (upstream saw ${log})`);
  });
  assert.ok(pipe.connections() >= 2, 'the scenario needs the first connection to close with tries queued behind it');
  const perConn = new Map<string, number>();
  for (const r of seen) perConn.set(`${r.conn}:${r.path}`, (perConn.get(`${r.conn}:${r.path}`) ?? 0) + 1);
  for (const [k, n] of perConn) assert.equal(n, 1, `${k} was written ${n} times on one connection (upstream saw ${log})`);
});

// ── (4) a streamed upload on a reused connection ─────────────────────────────────────────

test('a slow streamed POST (over longer than keepalive_ms) on a warm keep-alive connection gets 200', async () => {
  const from = upload.requests.length;
  const warm = await request(gw.url('/upload/warm'), { timeoutMs: 5000 });
  assert.equal(warm.status, 200);
  // No retries: on the route, so the body is streamed, not kept. keepalive_ms is 500; the body takes
  // about 1.4 s, every gap (350 ms) well under idle_ms.
  const started = Date.now();
  const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(gw.url('/upload/slow'), { method: 'POST', agent: false, headers: { 'content-length': '4' } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.setTimeout(8000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    void (async () => {
      for (const ch of 'abcd') {
        await sleep(350);
        if (req.destroyed) return;
        if (ch === 'd') req.end(ch);
        else req.write(ch);
      }
    })();
  });
  const ms = Date.now() - started;
  assert.equal(r.status, 200, `after ${ms} ms: ${r.body}`);
  assert.equal(r.body, 'POST /upload/slow abcd');
  assert.ok(ms >= 1000, `the upload took ${ms} ms, meant to outlast keepalive_ms (500)`);
  const seen = since(upload, from);
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.path}`),
    ['GET /upload/warm', 'POST /upload/slow'],
  );
  assert.equal(seen[1].conn, seen[0].conn, 'the POST went out on the warm (reused) connection');
  assert.equal(seen[1].nth, 2);
});

// ── (5) a try whose body was destroyed while it waited ───────────────────────────────────

test('a chunked upload answered 413 while queued for the single connection does not hang it: the next request gets 200 in bounded time', async () => {
  const slow = request(gw.url('/single/slow'), { timeoutMs: 5000 });
  await sleep(50);
  // Queued behind /single/slow (connections: 1); over max_body_bytes (16) → 413 from the gateway,
  // its body stream destroyed before the connection comes free.
  let big = '';
  const c = connect(gw.port, '127.0.0.1');
  c.on('error', () => {});
  c.on('data', (d: Buffer) => {
    big += d.toString('latin1');
  });
  try {
    c.write('POST /single/big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await sleep(20);
    c.write('10\r\n0123456789abcdef\r\n');
    for (let i = 0; i < 100 && !big.includes('\r\n\r\n'); i++) await sleep(20);
    assert.deepEqual(statuses(big), [413], big);

    const s = await slow;
    assert.equal(s.status, 200);
    assert.equal(s.body, 'ok /single/slow');

    const started = Date.now();
    const next = await request(gw.url('/single/after'), { timeoutMs: 3000 }).catch((e: Error) => ({ status: 0, body: `no answer: ${e.message}` }));
    const ms = Date.now() - started;
    assert.equal(next.status, 200, `after ${ms} ms: ${next.body}`);
    assert.equal(next.body, 'ok /single/after');
    assert.ok(ms < 2000, `answered after ${ms} ms`);
  } finally {
    c.destroy();
  }
});

test('the gateway wrote nothing to stderr', () => {
  assert.equal(gw.stderr.join(''), '');
});
