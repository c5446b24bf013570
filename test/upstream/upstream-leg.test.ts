import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { type LegHarness, legHarness, sleep } from '../helpers/leg-harness.js';
import { type RawRequest, type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';
import { refusedPort, startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

// The upstream leg in-process: the real compile → bind rows → buildRuntime → createLeg → start path,
// real pools and real upstream sockets on loopback, and a fake downstream that records what a client
// would get. Each test has its own shared tables, pools and upstreams.

/** A raw response with a Content-Length. */
function response(status: number, body = '', headers: string[] = []): string {
  return `HTTP/1.1 ${status} Whatever\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}

/** A scripted upstream that also notes when each of its connections closes. */
async function upstream(t: TestContext, answer: (r: RawRequest, s: Socket) => void): Promise<ScriptedUpstream & { closed: () => number }> {
  let closed = 0;
  const seen = new WeakSet<Socket>();
  const up = await scripted((r, s) => {
    if (!seen.has(s)) {
      seen.add(s);
      s.once('close', () => {
        closed++;
      });
    }
    answer(r, s);
  });
  t.after(() => up.close());
  return { ...up, closed: () => closed };
}

function harness(t: TestContext, yaml: string): LegHarness {
  const h = legHarness(yaml);
  t.after(() => h.close());
  return h;
}

/** One upstream `app` and one route `r` for every path. */
function config(endpoints: string[], upstreamExtra: string, routeExtra: string): string {
  return `
upstreams:
  app:
    endpoints: [ ${endpoints.map((e) => `{ url: "${e}" }`).join(', ')} ]
    health: { passive: { consecutive_failures: 0 } }
${upstreamExtra
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
routes:
  - name: r
    match: { prefix: / }
    upstream: app
${routeExtra
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

const NO_BACKOFF = 'backoff: { base_ms: 0, max_ms: 0 }';

test('a connect error on the first endpoint is retried on the other one: 200 after 2 tries', async (t) => {
  const good = await upstream(t, (_r, s) => s.write(response(200, 'from good')));
  // Taken after every listener of the test is up, so none of them can be given the same port.
  const dead = `http://127.0.0.1:${await refusedPort()}`;
  // round_robin starts at the first endpoint: the dead one.
  const h = harness(t, config([dead, good.origin], '', `retries: { attempts: 3, on: [connect_error], ${NO_BACKOFF} }`));
  const { down, leg } = h.start({ path: '/x' });
  await down.finished();
  assert.deepEqual(down.events, ['head 200', 'end']);
  assert.equal(down.text(), 'from good');
  assert.equal(leg.tries, 2);
  assert.equal(down.upstreamHeads.length, 2, 'onUpstreamRequest runs once per try');
  assert.equal(leg.endpoint, good.origin);
  assert.equal(good.requests.length, 1);
  assert.equal(good.requests[0].path, '/x');
  const line = h.logs.find((l) => l.msg === 'upstream error');
  assert.equal(line?.code, 'SLUICE_ERR_UPSTREAM_CONNECT');
  assert.equal(line?.endpoint, dead);
  assert.equal(line?.attempt, 1);
});

test('a 503 listed in retries.on is read to its end, not relayed, and retried: the client gets the 200', async (t) => {
  let badBodyDone = false;
  let goodSawBadBodyDone: boolean | null = null;
  const bad = await upstream(t, (_r, s) => {
    // The 503's body comes in two pieces, the second 100 ms later: the retry waits for it.
    const whole = response(503, 'overloaded', ['x-from: bad']);
    s.write(whole.slice(0, -6));
    setTimeout(() => {
      badBodyDone = true;
      s.write(whole.slice(-6));
    }, 100);
  });
  const good = await upstream(t, (_r, s) => {
    goodSawBadBodyDone ??= badBodyDone;
    s.write(response(200, 'from good', ['x-from: good']));
  });
  const h = harness(t, config([bad.origin, good.origin], '', `retries: { attempts: 2, on: [503], ${NO_BACKOFF} }`));
  const { down, leg } = h.start();
  await down.finished();
  assert.deepEqual(down.events, ['head 200', 'end'], 'the 503 was relayed');
  assert.equal(down.text(), 'from good');
  assert.equal(down.headers['x-from'], 'good');
  assert.equal(leg.tries, 2);
  assert.equal(bad.requests.length, 1);
  assert.equal(good.requests.length, 1);
  assert.equal(goodSawBadBodyDone, true, 'the retry left before the 503 was read to its end');

  // Read to its end, the 503's connection was clean: the next request to `bad` reuses it.
  const second = h.start();
  await second.down.finished();
  assert.equal(bad.requests.length, 2);
  assert.equal(bad.connections(), 1, 'the connection of the discarded 503 was not reused');
  assert.equal(bad.requests[1].nth, 2);
});

test('a 503 not listed in retries.on is relayed as it is, after one try', async (t) => {
  const bad = await upstream(t, (_r, s) => s.write(response(503, 'overloaded', ['x-from: bad', 'retry-after: 3'])));
  const good = await upstream(t, (_r, s) => s.write(response(200, 'from good')));
  const h = harness(t, config([bad.origin, good.origin], '', `retries: { attempts: 2, on: [502, connect_error], ${NO_BACKOFF} }`));
  const { down, leg } = h.start();
  await down.finished();
  assert.deepEqual(down.events, ['head 503', 'end']);
  assert.equal(down.status, 503);
  assert.equal(down.code, null, 'an upstream answer, not a gateway error');
  assert.equal(down.text(), 'overloaded');
  assert.equal(down.headers['x-from'], 'bad');
  assert.equal(down.headers['retry-after'], '3');
  assert.equal(leg.tries, 1);
  assert.equal(good.requests.length, 0);
});

test('when every try answers a listed 503, the last answer is relayed as it is', async (t) => {
  const one = await upstream(t, (_r, s) => s.write(response(503, 'one is busy', ['x-from: one'])));
  const two = await upstream(t, (_r, s) => s.write(response(503, 'two is busy', ['x-from: two'])));
  const h = harness(t, config([one.origin, two.origin], '', `retries: { attempts: 2, on: [503], ${NO_BACKOFF} }`));
  const { down, leg } = h.start();
  await down.finished();
  assert.deepEqual(down.events, ['head 503', 'end']);
  assert.equal(down.code, null, "the upstream's answer, not a gateway error");
  assert.equal(down.text(), 'two is busy');
  assert.equal(down.headers['x-from'], 'two');
  assert.equal(leg.tries, 2);
  assert.equal(one.requests.length + two.requests.length, 2);
});

/** `bad` resets every connection once it has read a whole request; `good` answers 200. */
async function resetThenGood(t: TestContext) {
  const bad = await upstream(t, (_r, s) => s.resetAndDestroy());
  const good = await upstream(t, (r, s) => s.write(response(200, `got ${r.body.length} bytes`)));
  return { bad, good };
}

test('a POST reset by the upstream is not retried (not idempotent): the client gets SLUICE_ERR_UPSTREAM_RESET', async (t) => {
  const { bad, good } = await resetThenGood(t);
  const h = harness(t, config([bad.origin, good.origin], '', `retries: { attempts: 2, on: [reset], ${NO_BACKOFF} }`));
  const { down, leg } = h.start({ method: 'POST', body: 'order=42' });
  assert.notEqual(down.body!.kept, null, 'the body is kept (within buffer_bytes): only the method forbids the retry');
  await down.finished();
  assert.deepEqual(down.events, ['fail SLUICE_ERR_UPSTREAM_RESET']);
  assert.equal(down.status, 502);
  assert.equal(leg.tries, 1);
  assert.equal(bad.requests.length, 1);
  assert.equal(good.requests.length, 0);
});

test('non_idempotent: true retries a reset POST, sending the kept body again byte for byte', async (t) => {
  const { bad, good } = await resetThenGood(t);
  const h = harness(t, config([bad.origin, good.origin], '', `retries: { attempts: 2, on: [reset], non_idempotent: true, buffer_bytes: 4096, ${NO_BACKOFF} }`));
  const body = randomBytes(3000); // every byte value, within buffer_bytes
  const { down, leg } = h.start({ method: 'POST', path: '/orders', body, headers: ['content-type', 'application/octet-stream'] });
  assert.notEqual(down.body!.kept, null);
  await down.finished();
  assert.deepEqual(down.events, ['head 200', 'end']);
  assert.equal(down.text(), 'got 3000 bytes');
  assert.equal(leg.tries, 2);
  assert.equal(bad.requests.length, 1);
  assert.equal(good.requests.length, 1);
  assert.deepEqual(bad.requests[0].body, body, 'the first try sent the body');
  assert.deepEqual(good.requests[0].body, body, 'the retry sent the same bytes again');
  assert.equal(good.requests[0].method, 'POST');
  assert.match(good.requests[0].head.toString('latin1'), /\r\ncontent-length: 3000\r\n/i);
});

test('non_idempotent: true does not retry a body over buffer_bytes: it was streamed and cannot be sent again', async (t) => {
  const { bad, good } = await resetThenGood(t);
  const h = harness(t, config([bad.origin, good.origin], '', `retries: { attempts: 2, on: [reset], non_idempotent: true, buffer_bytes: 1000, ${NO_BACKOFF} }`));
  const { down, leg } = h.start({ method: 'POST', body: randomBytes(3000) });
  assert.equal(down.body!.kept, null, 'streamed');
  await down.finished();
  assert.deepEqual(down.events, ['fail SLUICE_ERR_UPSTREAM_RESET']);
  assert.equal(leg.tries, 1);
  assert.equal(bad.requests.length, 1);
  assert.equal(good.requests.length, 0);
});

test('per_try_timeout_ms with on: [timeout]: a hanging endpoint is given up on and the second try answers', async (t) => {
  const hang = await upstream(t, () => {
    /* reads the request, never answers */
  });
  const good = await upstream(t, (_r, s) => s.write(response(200, 'from good')));
  const h = harness(t, config([hang.origin, good.origin], '', `retries: { attempts: 2, on: [timeout], per_try_timeout_ms: 200, ${NO_BACKOFF} }`));
  const started = performance.now();
  const { down, leg } = h.start();
  await down.finished();
  const took = performance.now() - started;
  assert.deepEqual(down.events, ['head 200', 'end']);
  assert.equal(down.text(), 'from good');
  assert.equal(leg.tries, 2);
  assert.ok(took >= 190 && took < 2000, `answered after ${took} ms`);
  assert.equal(hang.requests.length, 1);
  assert.equal(good.requests.length, 1);
  await waitFor(() => hang.closed() === 1, "the timed-out try's connection closed", 3000);
  assert.equal(h.logs.find((l) => l.msg === 'upstream error')?.code, 'SLUICE_ERR_UPSTREAM_TIMEOUT');
});

test('timeout_ms covers every try: 504 SLUICE_ERR_ROUTE_TIMEOUT when they all hang, and the try in flight is stopped', async (t) => {
  const a = await upstream(t, () => {});
  const b = await upstream(t, () => {});
  const h = harness(t, config([a.origin, b.origin], '', `timeout_ms: 400\nretries: { attempts: 5, on: [timeout], per_try_timeout_ms: 300, ${NO_BACKOFF} }`));
  const started = performance.now();
  const { down, leg } = h.start();
  await down.finished();
  const took = performance.now() - started;
  assert.deepEqual(down.events, ['fail SLUICE_ERR_ROUTE_TIMEOUT']);
  assert.equal(down.status, 504);
  assert.ok(took >= 390 && took < 1500, `failed after ${took} ms`);
  // 0 ms: a; 300 ms: a times out, b; 400 ms: the route's deadline, b's own would be at 600 ms.
  assert.equal(leg.tries, 2);
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal(a.closed(), 1, "the timed-out first try's connection is closed");
  await waitFor(() => b.closed() === 1, 'the second try stopped at the route deadline, before its own timeout', 150);
  assert.ok(h.logs.some((l) => l.msg === 'route timeout' && l.code === 'SLUICE_ERR_ROUTE_TIMEOUT' && l.attempt === 2));
});

test('circuit breaker: after min_requests failures the next leg is refused at once; with fallback: the fallback answers', async (t) => {
  // Every answer closes its connection, so each try that reaches the upstream is a new connection.
  const up = await upstream(t, (_r, s) => s.end(response(500, 'broken', ['connection: close'])));
  const h = harness(
    t,
    `
upstreams:
  app:
    endpoints: [ { url: "${up.origin}" } ]
    health: { passive: { consecutive_failures: 0 } }
    circuit_breaker: { failure_ratio: 0.5, min_requests: 3, window_ms: 10000, open_ms: 30000, half_open_requests: 1 }
routes:
  - { name: plain, match: { prefix: /plain }, upstream: app }
  - name: with-fallback
    match: { prefix: /fb }
    upstream: app
    fallback: { status: 200, body: '{"items":[]}', headers: { content-type: application/json, x-fallback: "yes" } }
`,
  );
  for (let i = 0; i < 3; i++) {
    const { down } = h.start({ path: '/plain' });
    await down.finished();
    assert.deepEqual(down.events, ['head 500', 'end'], `request ${i + 1} reached the upstream`);
  }
  await waitFor(() => up.closed() === 3, 'the three connections closed', 3000);
  assert.equal(up.connections(), 3);
  assert.ok(h.logs.some((l) => l.msg === 'circuit opened' && l.upstream === 'app'));

  const refused = h.start({ path: '/plain' });
  assert.equal(refused.down.settled, true, 'refused at once, inside start()');
  assert.deepEqual(refused.down.events, ['fail SLUICE_ERR_CIRCUIT_OPEN']);
  assert.equal(refused.down.status, 503);
  assert.equal(refused.leg.tries, 0);

  const fb = h.start({ path: '/fb' });
  assert.equal(fb.down.settled, true);
  assert.deepEqual(fb.down.replied, {
    status: 200,
    code: 'SLUICE_ERR_CIRCUIT_OPEN',
    body: '{"items":[]}',
    headers: [
      ['content-type', 'application/json'],
      ['x-fallback', 'yes'],
    ],
  });
  assert.equal(fb.leg.tries, 0);

  await sleep(100);
  assert.equal(up.connections(), 3, 'an open circuit let a connection through');
  assert.equal(up.requests.length, 3);
});

test("an exhausted retry budget (ratio 0, min_per_s 0): the failed try's error is the answer, no retry", async (t) => {
  const good = await upstream(t, (_r, s) => s.write(response(200, 'from good')));
  const dead = `http://127.0.0.1:${await refusedPort()}`;
  const h = harness(t, config([dead, good.origin], 'retry_budget: { ratio: 0, min_per_s: 0 }', `retries: { attempts: 3, on: [connect_error], ${NO_BACKOFF} }`));
  const { down, leg } = h.start();
  await down.finished();
  assert.deepEqual(down.events, ['fail SLUICE_ERR_UPSTREAM_CONNECT']);
  assert.equal(down.status, 502);
  assert.equal(leg.tries, 1);
  assert.equal(good.requests.length, 0);
  const line = h.logs.find((l) => l.msg === 'retry budget exhausted; failed tries answered without retry');
  assert.equal(line?.upstream, 'app');
});

test('max_requests: 1: a second concurrent leg is refused with SLUICE_ERR_UPSTREAM_OVERLOADED; release(false) frees the place', async (t) => {
  const waiting: Socket[] = [];
  const up = await upstream(t, (_r, s) => {
    waiting.push(s);
  });
  const h = harness(t, config([up.origin], 'max_requests: 1', ''));
  const first = h.start();
  await waitFor(() => up.requests.length === 1, 'the first request reached the upstream', 3000);

  const second = h.start();
  assert.equal(second.down.settled, true, 'refused at once, inside start()');
  assert.deepEqual(second.down.events, ['fail SLUICE_ERR_UPSTREAM_OVERLOADED']);
  assert.equal(second.down.status, 503);
  assert.equal(second.leg.tries, 0);

  // The gateway answers the first request by itself (as a 413 mid-upload would): its place and its try go.
  first.leg.release(false);
  await waitFor(() => up.closed() === 1, "the first try's connection closed", 3000);
  assert.deepEqual(first.down.events, [], 'nothing written for the released leg');

  const third = h.start();
  await waitFor(() => up.requests.length === 2, 'the third request reached the upstream', 3000);
  waiting[1].write(response(200, 'third'));
  await third.down.finished();
  assert.deepEqual(third.down.events, ['head 200', 'end']);
  assert.equal(third.down.text(), 'third');
  assert.equal(up.requests.length, 2, 'the refused leg never reached the upstream');
});

test('the client goes away (release(true)) while a try waits: the upstream connection closes, nothing more is written', async (t) => {
  const waiting: Socket[] = [];
  const up = await upstream(t, (_r, s) => {
    waiting.push(s);
  });
  const h = harness(t, config([up.origin], '', `retries: { attempts: 3, on: [reset, timeout], ${NO_BACKOFF} }`));
  const { down, leg } = h.start();
  await waitFor(() => up.requests.length === 1, 'the request reached the upstream', 3000);
  down.gone();
  await waitFor(() => up.closed() === 1, 'the upstream saw its connection close', 3000);
  await sleep(100);
  assert.deepEqual(down.events, []);
  assert.equal(down.bytes, 0);
  assert.equal(down.writesAfterClose, 0);
  assert.equal(leg.tries, 1, 'the aborted try was not retried');
  assert.equal(up.requests.length, 1);
});

test('the client goes away mid-body: the try relaying the answer is stopped too', async (t) => {
  const up = await upstream(t, (_r, s) => s.write(response(200, 'x'.repeat(10_000)).slice(0, -5_000)));
  const h = harness(t, config([up.origin], '', ''));
  const { down } = h.start();
  await waitFor(() => down.bytes === 5_000, 'half the body relayed', 3000);
  assert.deepEqual(down.events, ['head 200']);
  down.gone();
  await waitFor(() => up.closed() === 1, 'the upstream saw its connection close', 3000);
  await sleep(50);
  assert.deepEqual(down.events, ['head 200']);
  assert.equal(down.bytes, 5_000);
  assert.equal(down.writesAfterClose, 0);
});

/**
 * An upstream whose first answer is 10 000 bytes sent in two halves, the second when the test says
 * (`rest()`); later answers are whole. One connection per worker (pool: { connections: 1 }).
 */
async function halves(t: TestContext) {
  const body = Buffer.alloc(10_000, 'y').toString();
  let held: Socket | null = null;
  const up = await upstream(t, (r, s) => {
    const whole = response(200, body);
    if (r.conn === 1 && r.nth === 1) {
      held = s;
      s.write(whole.slice(0, -5_000));
    } else s.write(whole);
  });
  return { up, rest: () => held!.write(body.slice(-5_000)) };
}

test('release(false) while the answer is relayed (the gateway ended the response): the try reads it to its end by itself and writes nothing more', async (t) => {
  const { up, rest } = await halves(t);
  const h = harness(t, config([up.origin], 'pool: { connections: 1 }', ''));
  const first = h.start();
  await waitFor(() => first.down.bytes === 5_000, 'half the body relayed', 3000);
  first.down.endedByGateway();
  rest();
  // Read to its end, the connection goes back to the pool: the next request is answered on it.
  const second = h.start();
  await second.down.finished();
  assert.deepEqual(second.down.events, ['head 200', 'end']);
  assert.equal(second.down.bytes, 10_000);
  assert.equal(up.connections(), 1);
  assert.equal(up.requests[1].nth, 2);
  assert.deepEqual(first.down.events, ['head 200', 'ended by the gateway']);
  assert.equal(first.down.bytes, 5_000);
  assert.equal(first.down.writesAfterClose, 0, 'the released try still wrote to the request');
});

test('release(false) while a slow client has paused the answer: the try is not left paused for ever', async (t) => {
  const { up, rest } = await halves(t);
  const h = harness(t, config([up.origin], 'pool: { connections: 1 }', ''));
  const first = h.start();
  first.down.room = false;
  await waitFor(() => first.down.writes === 1, 'body bytes relayed, and refused', 3000);
  const relayed = first.down.bytes;
  first.down.endedByGateway();
  rest();
  // Nobody will call resume() for a released leg: the try must end on its own, or the endpoint's
  // only connection stays taken and the next request waits for ever.
  const second = h.start();
  await second.down.finished();
  assert.deepEqual(second.down.events, ['head 200', 'end']);
  assert.equal(first.down.writesAfterClose, 0);
  assert.equal(first.down.bytes, relayed);
});

test('backpressure: while the client refuses, the upstream connection is not read; leg.resume() reads on to the end', async (t) => {
  const total = 32 * 1024 * 1024; // far more than loopback socket buffers hold
  const piece = Buffer.alloc(64 * 1024);
  for (let i = 0; i < piece.length; i++) piece[i] = i % 251;
  let handed = 0;
  // The handler returns nothing: the writes run on in a promise of their own.
  const up: TestUpstream = await startUpstream((_req, res) => {
    void (async () => {
      res.writeHead(200, { 'content-length': String(total) });
      while (handed < total) {
        const ok = res.write(piece);
        handed += piece.length;
        if (!ok) await once(res, 'drain');
      }
      res.end();
    })();
  });
  t.after(() => up.close());
  const h = harness(t, config([up.origin], '', ''));
  const { down, leg } = h.start();
  down.room = false; // the slow client: every write is refused until it drains
  const hash = createHash('sha256');
  down.onChunk = (c) => {
    hash.update(c);
  };
  await waitFor(() => down.writes > 0, 'the first body bytes', 3000);
  await sleep(300);
  const relayed = down.bytes;
  const sent = handed;
  assert.equal(down.writes, 1, 'the leg wrote again after a refused write');
  await sleep(200);
  assert.equal(down.bytes, relayed);
  assert.equal(handed, sent, 'the upstream could still send: its connection was being read');
  assert.ok(sent < total / 2, `the upstream sent ${sent} of ${total} bytes while the client refused`);

  down.room = true; // drained
  leg.resume();
  await down.finished(10_000);
  assert.deepEqual(down.events, ['head 200', 'end']);
  assert.equal(down.bytes, total);
  const expected = createHash('sha256');
  for (let at = 0; at < total; at += piece.length) expected.update(piece);
  assert.equal(hash.digest('hex'), expected.digest('hex'), 'the bytes held while paused were lost or reordered');
});
