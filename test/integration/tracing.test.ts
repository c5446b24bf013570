import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { refusedPort, startUpstream, type TestUpstream } from '../helpers/upstream.js';

// W3C trace context through 2 workers: continued, started, restarted; tracestate and baggage passed
// on; the trace id in error bodies.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
const randomHex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  const dead = await refusedPort();
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
  dead: { endpoints: [ { url: "http://127.0.0.1:${dead}" } ], health: { passive: { consecutive_failures: 0 } } }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: up }
  - { name: dead, match: { prefix: /dead }, upstream: dead, retries: { attempts: 1 } }
`);
});

after(async () => {
  await gw.stop();
  await up.close();
});

/** The traceparent the upstream got for the latest request (parsed). */
function lastTraceparent(u: TestUpstream): { traceId: string; parentId: string; flags: string } {
  const v = u.seen.at(-1)!.headers.traceparent;
  assert.equal(typeof v, 'string', 'the upstream got no traceparent');
  const m = TRACEPARENT.exec(v as string);
  assert.ok(m, `malformed traceparent sent upstream: ${v}`);
  return { traceId: m[1], parentId: m[2], flags: m[3] };
}

test('a valid traceparent is continued: same trace id, this hop as the new parent; tracestate and baggage pass on', async () => {
  const r = await request(gw.url('/ok'), {
    headers: { traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'vendor=abc,other=1', baggage: 'user=alice,tier=gold' },
  });
  assert.equal(r.status, 200);
  const sent = lastTraceparent(up);
  assert.equal(sent.traceId, TRACE);
  assert.notEqual(sent.parentId, PARENT);
  assert.equal(sent.flags, '00');
  const seen = up.seen.at(-1)!;
  assert.equal(seen.headers.tracestate, 'vendor=abc,other=1');
  assert.equal(seen.headers.baggage, 'user=alice,tier=gold');
  assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'traceparent').length, 1);
});

test('each request gets its own span id for this hop', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 4; i++) {
    await request(gw.url('/ok'), { headers: { traceparent: `00-${TRACE}-${PARENT}-00` } });
    ids.add(lastTraceparent(up).parentId);
  }
  assert.equal(ids.size, 4);
});

test('a higher version is read by the version 00 rules and sent on as 00', async () => {
  await request(gw.url('/ok'), { headers: { traceparent: `cc-${TRACE}-${PARENT}-01-what-the-future-holds` } });
  const sent = lastTraceparent(up);
  assert.equal(sent.traceId, TRACE);
  assert.equal(sent.flags, '01');
});

test('without a traceparent a trace is started (valid ids; not sampled: nothing records spans)', async () => {
  const r = await request(gw.url('/ok'), { headers: { tracestate: 'orphan=1' } });
  assert.equal(r.status, 200);
  const sent = lastTraceparent(up);
  assert.match(sent.traceId, HEX32);
  assert.notEqual(sent.traceId, '0'.repeat(32));
  assert.equal(sent.flags, '00');
  // A tracestate without a valid traceparent is dropped (the spec says so).
  assert.equal(up.seen.at(-1)!.headers.tracestate, undefined);
});

for (const [why, value] of [
  ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
  ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
  ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
  ['version ff', `ff-${TRACE}-${PARENT}-01`],
  ['version 00 with more after the flags', `00-${TRACE}-${PARENT}-01-extra`],
  ['a short parent id', `00-${TRACE}-${PARENT.slice(1)}-01`],
]) {
  test(`a traceparent with ${why} is not continued: a new trace starts`, async () => {
    await request(gw.url('/ok'), { headers: { traceparent: value, tracestate: 'vendor=abc' } });
    const sent = lastTraceparent(up);
    assert.notEqual(sent.traceId, TRACE);
    assert.notEqual(sent.traceId, TRACE.toLowerCase());
    assert.equal(up.seen.at(-1)!.headers.tracestate, undefined);
  });
}

test('a tracestate beyond 512 characters is cut to whole members from the left', async () => {
  const members = Array.from({ length: 40 }, (_, i) => `k${i}=${'v'.repeat(20)}`);
  await request(gw.url('/ok'), { headers: { traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: members.join(',') } });
  const got = up.seen.at(-1)!.headers.tracestate as string;
  assert.ok(got.length <= 512, `tracestate of ${got.length} characters sent on`);
  assert.ok(members.join(',').startsWith(got));
  assert.ok(got.endsWith('v'), 'a member was cut in the middle');
});

test('the trace id is in error bodies beside the request id (404 from the front door, 502 from the leg)', async () => {
  for (const path of ['/nowhere', '/dead']) {
    const trace = randomHex(32);
    const r = await request(gw.url(path), { headers: { traceparent: `00-${trace}-${PARENT}-00` } });
    assert.equal(r.status, path === '/dead' ? 502 : 404);
    const body = json(r);
    assert.equal(body.error.trace_id, trace);
    assert.equal(body.error.request_id, r.headers['x-request-id']);
  }
  const started = json(await request(gw.url('/nowhere')));
  assert.match(started.error.trace_id, HEX32);
});
