import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { load } from '../helpers/fleet.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { parseMetrics, total } from '../helpers/metrics-text.js';
import { refusedPort, startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

// W3C trace context through 2 workers (continued, started, restarted; tracestate and baggage passed
// on; the trace id in error bodies) and OTLP/HTTP JSON export to a receiver this test runs.

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code: number };
  attrs: Record<string, string | number>;
  service: string;
}

interface Receiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly posts: { url: string; headers: IncomingHttpHeaders }[];
  mode: 'ok' | 'hang' | 500;
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver on loopback: decodes the JSON export requests it gets, or fails on command. */
async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = { url: '', spans: [], posts: [], mode: 'ok', close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.posts.push({ url: req.url!, headers: req.headers });
      if (r.mode === 'hang') return;
      if (r.mode === 500) return void res.writeHead(500).end('no');
      const body = JSON.parse(Buffer.concat(chunks).toString());
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a: any) => a.key === 'service.name').value.stringValue;
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            const attrs: Record<string, string | number> = {};
            for (const a of s.attributes) attrs[a.key] = a.value.stringValue ?? Number(a.value.intValue);
            r.spans.push({ ...s, attrs, service });
          }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  (r as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () =>
    new Promise<void>((ok) => {
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    });
  return r;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
const randomHex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

let up: TestUpstream;
let flakyHits = 0;
let flaky: TestUpstream;
let receiver: Receiver;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  // Every other request answers 503: a request's first try fails and its retry succeeds.
  flaky = await startUpstream((_req, res) => {
    flakyHits++;
    res.writeHead(flakyHits % 2 === 1 ? 503 : 200).end('flaky');
  });
  receiver = await startReceiver();
  const dead = await refusedPort();
  gw = await startGateway(`
tracing:
  sample: 0
  service_name: edge-test
  otlp: { endpoint: "${receiver.url}", headers: { x-collector-key: k1 } }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
  flaky: { endpoints: [ { url: "${flaky.origin}" } ], health: { passive: { consecutive_failures: 0 } } }
  dead: { endpoints: [ { url: "http://127.0.0.1:${dead}" } ], health: { passive: { consecutive_failures: 0 } } }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: up }
  - name: flaky
    match: { prefix: /flaky }
    upstream: flaky
    retries: { attempts: 2, on: [503], backoff: { base_ms: 0, max_ms: 0 } }
  - { name: dead, match: { prefix: /dead }, upstream: dead, retries: { attempts: 1 } }
`);
});

after(async () => {
  await gw.stop();
  await Promise.all([up.close(), flaky.close(), receiver.close()]);
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

test('without a traceparent a trace is started (valid ids; sample 0: not sampled)', async () => {
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

test('a sampled request is exported: a server span, and a client span per try, linked parent to child', async () => {
  const trace = randomHex(32);
  flakyHits = 0;
  const before = flaky.seen.length;
  const r = await request(gw.url('/flaky/x?q=1'), { headers: { traceparent: `00-${trace}-${PARENT}-01`, tracestate: 'v=1' } });
  assert.equal(r.status, 200);
  await waitFor(() => receiver.spans.filter((s) => s.traceId === trace).length >= 3, 'a server span and two client spans exported');
  const spans = receiver.spans.filter((s) => s.traceId === trace);
  assert.equal(spans.length, 3);
  const server = spans.find((s) => s.kind === 2)!;
  const clients = spans.filter((s) => s.kind === 3).sort((a, b) => Number(a.attrs['http.request.resend_count']) - Number(b.attrs['http.request.resend_count']));
  assert.ok(server, 'no server span');
  assert.equal(clients.length, 2);
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(server.service, 'edge-test');
  assert.equal(server.name, 'GET flaky');
  assert.equal(server.attrs['http.request.method'], 'GET');
  assert.equal(server.attrs['url.path'], '/flaky/x');
  assert.equal(server.attrs['http.route'], 'flaky');
  assert.equal(server.attrs['http.response.status_code'], 200);
  assert.equal(server.attrs['sluice.upstream'], 'flaky');
  assert.equal(server.attrs['sluice.tries'], 2);
  assert.equal(server.attrs['sluice.request_id'], r.headers['x-request-id']);
  assert.equal(server.status.code, 0);
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));
  // Each try: a child of the server span, and the upstream saw that try's span as its parent.
  const seen = flaky.seen.slice(before);
  assert.equal(seen.length, 2);
  for (const [i, c] of clients.entries()) {
    assert.equal(c.parentSpanId, server.spanId);
    assert.notEqual(c.spanId, server.spanId);
    assert.equal(c.attrs['http.request.resend_count'], i);
    assert.equal(c.attrs['sluice.upstream'], 'flaky');
    assert.equal(c.attrs['server.address'], '127.0.0.1');
    assert.equal(c.attrs['server.port'], flaky.port);
    assert.equal(c.attrs['sluice.endpoint'], flaky.origin);
    assert.equal(seen[i].headers.traceparent, `00-${trace}-${c.spanId}-01`);
    assert.equal(seen[i].headers.tracestate, 'v=1');
  }
  assert.equal(clients[0].attrs['http.response.status_code'], 503);
  assert.equal(clients[0].status.code, 2);
  assert.equal(clients[1].attrs['http.response.status_code'], 200);
  assert.equal(clients[1].status.code, 0);
  // Where the spans went, and with what.
  const post = receiver.posts.at(-1)!;
  assert.equal(post.url, '/v1/traces');
  assert.equal(post.headers['content-type'], 'application/json');
  assert.equal(post.headers['x-collector-key'], 'k1');
});

test('a failed try and a 5xx answer carry the error code and an error status', async () => {
  const trace = randomHex(32);
  const r = await request(gw.url('/dead'), { headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  assert.equal(r.status, 502);
  await waitFor(() => receiver.spans.filter((s) => s.traceId === trace).length >= 2, 'the spans of a failed request exported');
  const spans = receiver.spans.filter((s) => s.traceId === trace);
  const server = spans.find((s) => s.kind === 2)!;
  const client = spans.find((s) => s.kind === 3)!;
  assert.equal(server.attrs['error.type'], 'SLUICE_ERR_UPSTREAM_CONNECT');
  assert.equal(server.attrs['http.response.status_code'], 502);
  assert.equal(server.status.code, 2);
  assert.equal(client.attrs['error.type'], 'SLUICE_ERR_UPSTREAM_CONNECT');
  assert.equal(client.attrs['http.response.status_code'], undefined);
  assert.equal(client.status.code, 2);
});

test('an unmatched sampled request has a server span without a route', async () => {
  const trace = randomHex(32);
  await request(gw.url('/nowhere'), { headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  await waitFor(() => receiver.spans.some((s) => s.traceId === trace), 'the 404 span exported');
  const s = receiver.spans.find((x) => x.traceId === trace)!;
  assert.equal(s.name, 'GET');
  assert.equal(s.attrs['http.route'], '');
  assert.equal(s.attrs['error.type'], 'SLUICE_ERR_ROUTE_NOT_FOUND');
});

test('unsampled requests (flag 00, or started under sample 0) are propagated but never exported', async () => {
  const quiet = Array.from({ length: 6 }, () => randomHex(32));
  for (const t of quiet) await request(gw.url('/ok'), { headers: { traceparent: `00-${t}-${PARENT}-00` } });
  for (let i = 0; i < 6; i++) await request(gw.url('/ok'));
  const started = up.seen.slice(-6).map((s) => TRACEPARENT.exec(s.headers.traceparent as string)![1]);
  // Sampled ones after them, on fresh connections (both workers): once they are in, a queued span
  // of the earlier ones would have left too; one flush interval more for a worker that had none.
  const loud = Array.from({ length: 6 }, () => randomHex(32));
  for (const t of loud) await request(gw.url('/ok'), { headers: { traceparent: `00-${t}-${PARENT}-01` } });
  await waitFor(() => loud.every((t) => receiver.spans.some((s) => s.traceId === t)), 'the sampled requests exported');
  await new Promise((r) => setTimeout(r, 1500));
  for (const t of [...quiet, ...started]) assert.ok(!receiver.spans.some((s) => s.traceId === t), `unsampled trace ${t} was exported`);
});

test('with sample 1, a started trace is sampled and exported without a parent; a collector answering 500 or hanging fails no request', async () => {
  const bad = await startReceiver();
  const gw1 = await startGateway(`
tracing: { sample: 1, otlp: { endpoint: "${bad.url}/v1/traces", timeout_ms: 200 } }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: up }
`);
  try {
    const r = await request(gw1.url('/ok'));
    const sent = lastTraceparent(up);
    assert.equal(sent.flags, '01');
    await waitFor(() => bad.spans.some((s) => s.traceId === sent.traceId), 'the started trace exported');
    const server = bad.spans.find((s) => s.traceId === sent.traceId && s.kind === 2)!;
    assert.equal(server.parentSpanId, undefined);
    assert.equal(server.service, 'sluice');
    assert.equal(server.attrs['sluice.request_id'], r.headers['x-request-id']);
    assert.equal(bad.posts.at(-1)!.url, '/v1/traces');

    for (const mode of [500, 'hang'] as const) {
      bad.mode = mode;
      const posts = bad.posts.length;
      const res = await load(gw1.url('/ok'), 40, 4);
      assert.equal(res.statuses.get(200), 40, `requests failed while the collector ${mode === 500 ? 'answers 500' : 'hangs'}`);
      assert.equal(res.errors, 0);
      await waitFor(() => bad.posts.length > posts, 'an export attempted');
      const cause = mode === 500 ? (c: string) => c === 'collector answered 500' : (c: string) => c !== 'collector answered 500';
      const line = await gw1.waitForLog((l) => l.msg === 'span export failed' && cause(l.cause) && l.spans_dropped > 0);
      assert.equal(line.level, 'warn');
      assert.equal(line.url, `${bad.url}/v1/traces`);
    }
    // What the log said, GET /metrics counts: the spans before the collector failed were accepted, later ones lost.
    const m = parseMetrics((await request(`http://127.0.0.1:${gw1.adminPort}/metrics`)).body);
    assert.ok(total(m, 'sluice_tracing_spans_exported_total') >= 2, "the first request's spans were exported");
    assert.ok(total(m, 'sluice_tracing_spans_dropped_total') > 0, 'dropped spans are counted');
  } finally {
    await gw1.stop();
    await bad.close();
  }
});

test('spans still queued when the gateway drains are sent before the workers exit', async () => {
  const rec = await startReceiver();
  const gw2 = await startGateway(`
tracing: { sample: 1, otlp: { endpoint: "${rec.url}" } }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: ok, match: { prefix: /ok }, upstream: up }
`);
  try {
    const r = await request(gw2.url('/ok'));
    assert.equal(r.status, 200);
    const { traceId } = lastTraceparent(up);
    // SIGTERM at once, well within the exporter's 1 s flush interval.
    assert.equal(await gw2.stop(), 0);
    assert.ok(
      rec.spans.some((s) => s.traceId === traceId && s.kind === 2),
      'the server span was lost on drain',
    );
  } finally {
    await gw2.stop();
    await rec.close();
  }
});
