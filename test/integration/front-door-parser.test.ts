import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawExchange, rawUntilClosed, statuses } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/*
 * What uWS 20.30's parser does with valid-but-unusual and malformed request heads, through sluice, as
 * measured and documented in docs/security.md ("What the front door answers"). Each case asserts
 * today's behaviour exactly: a uWS upgrade that changes one fails here and sends someone to that table.
 *
 * Four outcomes: sluice answers with a status (its own checks), uWS closes the connection at once
 * without a status line, uWS holds the connection unanswered until its idle timer (~10 s), or the
 * request is forwarded. Nothing refused or held ever reaches the upstream.
 */
let up: TestUpstream;
let gw: TestGateway;

before(async () => {
  up = await startUpstream();
  gw = await startGateway(`
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: all, match: { prefix: / }, upstream: u }
`);
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await up.close();
});

const CRLF = '\r\n';
/** A request head; `{M}` in it becomes a marker unique to the case, to find it upstream. */
const head = (lines: string[], body = '') => lines.join(CRLF) + CRLF + CRLF + body;
const get = (extra: string[] = [], line = 'GET /{M} HTTP/1.1') => head([line, 'Host: a', ...extra]);
const post = (extra: string[], body: string) => head(['POST /{M} HTTP/1.1', 'Host: a', ...extra], body);
const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v`);

type Case = readonly [name: string, bytes: string];
let serial = 0;
const marked = (bytes: string) => {
  const marker = `case${++serial}x`;
  return { marker, bytes: bytes.replaceAll('{M}', marker) };
};
const reachedUpstream = (marker: string) => up.seen.some((s) => s.url.includes(marker) || JSON.stringify(s.headers).includes(marker));

/** Every case in one batch, concurrently: the held ones wait for uWS's timer together. */
async function each(cases: readonly Case[], check: (name: string, r: { text: string; closedAfterMs: number }, marker: string) => void, capMs: number) {
  const before = up.seen.length;
  const runs = cases.map(([name, bytes]) => {
    const m = marked(bytes);
    return rawUntilClosed(gw.port, m.bytes, capMs).then((r) => ({ name, r, marker: m.marker }));
  });
  for (const { name, r, marker } of await Promise.all(runs)) check(name, r, marker);
  return up.seen.length - before;
}

// ── closed by uWS at once, no status line ─────────────────────────────────────────────────────

/** uWS closes these before any handler runs: no status line, nothing forwarded (class 1: methods; class 2). */
const CLOSED_AT_ONCE: Case[] = [
  ...['PURGE', 'PROPFIND', 'MKCOL', 'LINK', 'QUERY', 'M-SEARCH', 'GETX', 'get', 'Get', 'post'].map((m): Case => [`method ${m}`, get([], `${m} /{M} HTTP/1.1`)]),
  ['method not a token', get([], 'GE(T /{M} HTTP/1.1')],
  ['empty method', get([], ' /{M} HTTP/1.1')],
  ['Content-Length with Transfer-Encoding', post(['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
  ['Transfer-Encoding with Content-Length', post(['Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n')],
  ...['+5', '-5', '0x5', '5 5', '5, 5', 'abc', '1e3', '1000000000', '4294967296', '1234567890123456'].map(
    (v): Case => [`Content-Length: ${v}`, post([`Content-Length: ${v}`], 'hello')],
  ),
  ...['zz', '-5', 'fffffffffffffffff', '0x5'].map((s): Case => [`chunk size ${s}`, post(['Transfer-Encoding: chunked'], `${s}\r\nhello\r\n0\r\n\r\n`)]),
  ['1000 header lines (over 4 KiB)', get(fields(1000))],
];

test('closed by uWS at once without a status line, nothing forwarded', async () => {
  const forwarded = await each(
    CLOSED_AT_ONCE,
    (name, r) => {
      assert.equal(r.text, '', `${name}: no byte of answer`);
      assert.ok(r.closedAfterMs >= 0 && r.closedAfterMs < 2000, `${name}: closed at once (after ${r.closedAfterMs} ms)`);
    },
    3000,
  );
  assert.equal(forwarded, 0);
});

// ── held until uWS's idle timer ───────────────────────────────────────────────────────────────

/** uWS waits for a head it can parse: no byte of answer until its idle timer closes the connection. */
const HELD: Case[] = [
  // class 1: valid requests
  ...[..."!#$%&'*+.^_`|~"].map((c): Case => [`header name X${c}A`, get([`X${c}A: 1`])]),
  ['header name X_User_Id', get(['X_User_Id: 1'])],
  ['49 header fields', get(fields(48))],
  ['200 header fields (under 4 KiB)', get(fields(200))],
  ['empty line before the request line', CRLF + get()],
  ['OPTIONS *', get(['X-Case: {M}'], 'OPTIONS * HTTP/1.1')],
  ['absolute-form target', get([], 'GET http://a/{M} HTTP/1.1')],
  ['CONNECT authority-form', get(['X-Case: {M}'], 'CONNECT a:443 HTTP/1.1')],
  // class 2: malformed requests
  ['bare LF line endings', 'GET /{M} HTTP/1.1\nHost: a\n\n'],
  ['bare LF between headers', 'GET /{M} HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'],
  ['0x01 in a header value', get(['X-A: a\x01b'])],
  ['NUL in a header value', get(['X-A: a\x00b'])],
  ['0x01 in a header name', get(['X\x01A: b'])],
  ['0x01 in the target', get([], 'GET /{M}\x01 HTTP/1.1')],
  ['NUL in the target', get([], 'GET /{M}\x00 HTTP/1.1')],
  ['space in a header name', get(['X A: b'])],
  ['space before the colon', get(['X-A : b'])],
  ['header line without a colon', get(['XA'])],
  ['obs-fold continuation line', get(['X-A: b', ' c'])],
  ['non-ASCII header name', get(['X-\u00e9: b'])],
  ['no Host', head(['GET /{M} HTTP/1.1'])],
  ['two spaces in the request line', get([], 'GET  /{M} HTTP/1.1')],
  ['request line without a version', get([], 'GET /{M}')],
  ['request line with a fourth word', get([], 'GET /{M} HTTP/1.1 x')],
  ['HTTP/2.0 request line', get([], 'GET /{M} HTTP/2.0')],
  ['HTTP/1.2 request line', get([], 'GET /{M} HTTP/1.2')],
  ['lower-case http/1.1', get([], 'GET /{M} http/1.1')],
  ['no target', get([], 'GET HTTP/1.1')],
  ['target not starting with /', get([], 'GET {M} HTTP/1.1')],
  ['tabs between request-line words', get([], 'GET\t/{M}\tHTTP/1.1')],
  ['TLS ClientHello on a plain listener', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'x'.repeat(40)],
  ['HTTP/1.0', get([], 'GET /{M} HTTP/1.0')],
  ['HTTP/1.0 without Host', head(['GET /{M} HTTP/1.0'])],
  ['HTTP/0.9', 'GET /{M}\r\n'],
  ['head never finished', 'GET /{M} HTTP/1.1\r\nHost: a\r\n'],
];

test('held unanswered until uWS idle timer closes them (8-12 s), nothing forwarded', async () => {
  const forwarded = await each(
    HELD,
    (name, r) => {
      assert.equal(r.text, '', `${name}: no byte of answer`);
      // uWS's HTTP idle timeout is 10 s, checked on a 4 s tick; nothing closes them sooner.
      assert.ok(r.closedAfterMs >= 5000 && r.closedAfterMs < 15_000, `${name}: closed by the idle timer (after ${r.closedAfterMs} ms)`);
    },
    15_000,
  );
  assert.equal(forwarded, 0);
});

// ── answered by sluice ────────────────────────────────────────────────────────────────────────

/** Heads uWS hands to sluice that sluice refuses (worker/accept.ts): a status, the connection closed, nothing forwarded. */
const REFUSED: ReadonlyArray<readonly [string, string, number]> = [
  ['two different Content-Length', post(['Content-Length: 0', 'Content-Length: 5'], 'hello'), 400],
  ['two equal Content-Length', post(['Content-Length: 5', 'Content-Length: 5'], 'hello'), 400],
  ['empty Content-Length', post(['Content-Length:'], 'hello'), 400],
  ['two Transfer-Encoding', post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), 400],
  ['Transfer-Encoding: xchunked', post(['Transfer-Encoding: xchunked'], '0\r\n\r\n'), 400],
  ['Transfer-Encoding: gzip, chunked', post(['Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'), 400],
  ['DEL in a header value', get(['X-A: a\x7fb']), 400],
  ['two Host', head(['GET /{M} HTTP/1.1', 'Host: a', 'Host: b']), 400],
  ['empty Host', head(['GET /{M} HTTP/1.1', 'Host:']), 400],
  ['Host: a b', head(['GET /{M} HTTP/1.1', 'Host: a b']), 400],
  ['Host: a/b', head(['GET /{M} HTTP/1.1', 'Host: a/b']), 400],
  ['Host: user@a', head(['GET /{M} HTTP/1.1', 'Host: user@a']), 400],
  ['Content-Length: 999999999 (over max_body_bytes)', post(['Content-Length: 999999999'], 'hello'), 413],
  ['chunked body (allow_chunked_requests: false)', post(['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'), 411],
  ['chunk size with a leading space', post(['Transfer-Encoding: chunked'], ' 5\r\nhello\r\n0\r\n\r\n'), 411],
];

test('refused by sluice with a status, connection closed, nothing forwarded', async () => {
  const before = up.seen.length;
  const runs = REFUSED.map(async ([name, bytes, status]) => ({ name, status, r: await rawExchange(gw.port, marked(bytes).bytes, 1500) }));
  for (const { name, status, r } of await Promise.all(runs)) {
    assert.deepEqual(statuses(r.text), [status], `${name}: ${JSON.stringify(r.text.slice(0, 120))}`);
    assert.ok(r.closed, `${name}: closed`);
  }
  assert.equal(up.seen.length, before);
});

// ── forwarded ─────────────────────────────────────────────────────────────────────────────────

test('forwarded: the standard methods, 48 header fields, Content-Length with leading zeros', async () => {
  const ok: Case[] = [
    ...['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'].map((m): Case => [m, get(['Content-Length: 0'], `${m} /{M} HTTP/1.1`)]),
    ['48 header fields', get(fields(47))],
    ['Content-Length: 05', post(['Content-Length: 05'], 'hello')],
  ];
  const runs = ok.map(async ([name, bytes]) => {
    const m = marked(bytes);
    return { name, marker: m.marker, r: await rawExchange(gw.port, m.bytes, 800) };
  });
  for (const { name, marker, r } of await Promise.all(runs)) {
    assert.deepEqual(statuses(r.text), [200], name);
    assert.ok(reachedUpstream(marker), `${name} reached the upstream`);
  }
});

test('two Content-Length with a request as the body: closed without a status line, the smuggled request never answered', async () => {
  // sluice defers its 400 a turn; uWS closes the connection when it parses the smuggled request meanwhile.
  const before = up.seen.length;
  const smuggled = 'GET /{M}/smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  for (const cl of [['Content-Length: 0', `Content-Length: ${smuggled.length}`], ['Content-Length:']]) {
    const r = await rawUntilClosed(gw.port, marked(post(cl, smuggled)).bytes, 3000);
    assert.equal(r.text, '', `${cl}: ${JSON.stringify(r.text.slice(0, 120))}`);
    assert.ok(r.closedAfterMs >= 0 && r.closedAfterMs < 2000, `${cl}: closed at once`);
  }
  assert.equal(up.seen.length, before);
});

test('an empty header name hides every header after it, from uWS and from sluice alike', async () => {
  // uWS ends its header list at the empty name: the rest of the head is invisible to both, so the
  // Content-Length below frames nothing and its "body" is read as the next request on the connection.
  const m = marked(get([': x', 'X-Hidden: {M}', 'Content-Length: 35']) + 'GET /{M}/second HTTP/1.1\r\nHost: a\r\n\r\n');
  const r = await rawExchange(gw.port, m.bytes, 800);
  const seen = up.seen.filter((s) => s.url.includes(m.marker));
  assert.ok(seen.length >= 1 && seen[0].url === `/${m.marker}`, 'the request is forwarded');
  assert.equal(seen[0].headers['x-hidden'], undefined, 'without the headers after the empty name');
  assert.ok(statuses(r.text).length <= 2);
});

test('non-ASCII bytes at the ends of a header value are trimmed by uWS before sluice sees them', async () => {
  // Documented in docs/security.md: JS only ever sees the trimmed value, so sluice cannot refuse it.
  const m = marked(get(['X-Case: {M}', 'X-U: é', 'X-V: aé', 'X-W: ééébb', 'X-Z: aéb']));
  const r = await rawExchange(gw.port, Buffer.from(m.bytes, 'utf8'), 800);
  assert.deepEqual(statuses(r.text), [200]);
  const seen = up.seen.find((s) => s.headers['x-case'] === m.marker)!;
  const value = (name: string) => Buffer.from(seen.headers[name] as string, 'latin1').toString('utf8');
  assert.deepEqual(['x-u', 'x-v', 'x-w', 'x-z'].map(value), ['', 'a', 'bb', 'aéb']);
});
