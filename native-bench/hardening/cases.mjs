// The catalog: each case is plain data (class, name, what is sent, the pass rule in words) plus how to
// send it (`run`, over one or more raw connections) and how to judge what came back (`judge`). Rules say
// what a well-behaved gateway does, written before either gateway was run, and accept every answer
// that is safe (e.g. 400 or 501 for a transfer coding it does not know).
//
// Marker: every request carries `X-Case: <id>` (smuggled inner requests too), so an upstream can tell
// which case forwarded what. Limits in the rules match targets.mjs (LIMITS).
import { resolveLikeUpstream } from './path-model.mjs';
import { LIMITS } from './targets.mjs';

export const CLASSES = {
  0: 'baseline (not counted)',
  1: 'valid requests get an answer',
  2: 'malformed requests get a 4xx',
  3: 'path normalisation',
  4: 'limits at their boundary',
  5: 'slow clients',
  6: 'upstream connect/timeouts',
  7: 'bad upstream responses',
  8: 'stale keep-alive race',
  9: 'early upstream response',
  10: 'SIGTERM drain',
};

const HOST = 'Host: h21.test\r\n';
/** A request head: line, Host, the marker, extra header lines (each ending CRLF), the empty line. */
const head = (id, line, extra = '') => `${line}\r\n${HOST}X-Case: ${id}\r\n${extra}\r\n`;
const smuggled = (id) => `GET /admin/smuggled HTTP/1.1\r\n${HOST}X-Case: ${id}\r\n\r\n`;

// ── what was seen ──
const firstFinal = (o) => o.rec.responses.find((r) => r.status !== null && r.status >= 200) ?? null;
const statusMs = (o) => o.rec.firstByteMs;
const forwarded = (o) => o.reqs.length;

export function describe(o) {
  const parts = [];
  const rs = o.rec.responses.filter((r) => r.status !== null);
  const shown = (r) => `${r.status}${r.complete ? '' : '…'}${/close/i.test(r.headers.connection ?? '') ? ' (Connection: close)' : ''}`;
  if (rs.length > 0) parts.push(`${rs.map(shown).join(' + ')} at ${statusMs(o)} ms`);
  else if (o.rec.data.length > 0) parts.push(`${o.rec.data.length} B, no status line`);
  else parts.push('no status line');
  if (o.rec.reset) parts.push('reset');
  parts.push(o.rec.closedMs !== null ? `closed at ${o.rec.closedMs} ms` : `open after ${o.elapsedMs} ms`);
  const saw = (r) => `${r.upstream}: ${r.method} ${r.path.length > 40 ? `${r.path.slice(0, 40)}…` : r.path}`;
  if (o.reqs.length > 0) parts.push(`forwarded ${o.reqs.map(saw).join(', ')}`);
  if (o.note) parts.push(o.note);
  return parts.join('; ');
}

// ── rules ──
/** A status in `statuses` within `ms`, and nothing with the marker reached any upstream. */
const refused = (statuses, ms) => (o) => {
  const r = firstFinal(o);
  return r !== null && statuses.includes(r.status) && statusMs(o) <= ms && forwarded(o) === 0;
};
/** Any final status line within `ms` (forwarded and answered, or answered by the gateway). */
const answered = (ms) => (o) => firstFinal(o) !== null && statusMs(o) <= ms;
/**
 * refused(...), and the connection ends: closed within `closeMs` of the answer, or the answer says
 * Connection: close (a server that then lingers to let the client read the answer, as nginx does, has
 * still ended the connection: RFC 9112 §9.6).
 */
const refusedAndClosed = (statuses, ms, closeMs) => (o) =>
  refused(statuses, ms)(o) && ((o.rec.closedMs !== null && o.rec.closedMs - statusMs(o) <= closeMs) || /close/i.test(firstFinal(o).headers.connection ?? ''));

// ── how a case sends ──
/** Write the bytes, wait for a status line (or close) up to `ms`, then up to 1 s more to see a close. */
const send =
  (bytes, ms = 2000) =>
  async (open) => {
    const c = open();
    await c.write(bytes);
    await c.waitHead(ms);
    await c.waitResponses(1, 300);
    await c.waitClose(1000);
    return c.end();
  };

const valid = (id, cls, name, bytes, sends) => ({
  id,
  cls,
  name,
  sends,
  rule: 'a status line within 2 s (forwarded or answered)',
  run: send(bytes),
  judge: answered(2000),
});
const bad = (id, cls, name, bytes, sends, statuses = [400]) => ({
  id,
  cls,
  name,
  sends,
  rule: `${statuses.join(' or ')} within 2 s; nothing forwarded`,
  run: send(bytes),
  judge: refused(statuses, 2000),
});

const pad = (n) => 'a'.repeat(n);
/** A GET head of exactly `total` bytes (request line to the final CRLFCRLF), padded with one X-Pad header. */
function headOfSize(id, total) {
  const base = head(id, 'GET /public/size HTTP/1.1', 'X-Pad: \r\n');
  return head(id, 'GET /public/size HTTP/1.1', `X-Pad: ${pad(total - base.length)}\r\n`);
}

const LINES_60 = Array.from({ length: 60 }, (_, i) => `X-H-${i}: v\r\n`).join('');
const LINES_1000 = Array.from({ length: 1000 }, () => 'a: b\r\n').join('');

function frontDoor() {
  return [
    {
      id: '0.1',
      cls: 0,
      name: 'plain GET',
      sends: 'GET /public/ok',
      rule: '200 "public", forwarded once',
      run: send(head('0.1', 'GET /public/ok HTTP/1.1')),
      judge: (o) => firstFinal(o)?.status === 200 && firstFinal(o).body.toString() === 'public' && forwarded(o) === 1,
    },
    valid('1.1', 1, 'header name with _', head('1.1', 'GET /public/x HTTP/1.1', 'X_User_Id: 42\r\n'), 'X_User_Id: 42'),
    valid('1.2', 1, 'header name with !', head('1.2', 'GET /public/x HTTP/1.1', 'X!A: 1\r\n'), 'X!A: 1'),
    valid('1.3', 1, '60 header lines', head('1.3', 'GET /public/x HTTP/1.1', LINES_60), '60 small header lines (~600 B)'),
    valid('1.4', 1, 'leading empty line', `\r\n${head('1.4', 'GET /public/x HTTP/1.1')}`, 'CRLF before the request line (RFC 9112 §2.2: ignore it)'),
    valid('1.5', 1, 'OPTIONS *', head('1.5', 'OPTIONS * HTTP/1.1'), 'OPTIONS * HTTP/1.1'),
    valid('1.6', 1, 'absolute-form target', head('1.6', 'GET http://h21.test/public/abs HTTP/1.1'), 'GET http://h21.test/public/abs'),
    valid('1.7', 1, 'method PURGE', head('1.7', 'PURGE /public/x HTTP/1.1'), 'PURGE /public/x'),
    valid('1.8', 1, 'method PROPFIND', head('1.8', 'PROPFIND /public/x HTTP/1.1', 'Depth: 1\r\n'), 'PROPFIND /public/x'),
    valid('1.9', 1, 'lower-case method', head('1.9', 'get /public/x HTTP/1.1'), 'get /public/x (a token, case-sensitive)'),
    valid('1.10', 1, 'HTTP/1.0 request', head('1.10', 'GET /public/x HTTP/1.0'), 'GET /public/x HTTP/1.0 with Host'),
    valid(
      '1.11',
      1,
      'chunked upload',
      head('1.11', 'POST /public/up HTTP/1.1', 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n0\r\n\r\n',
      'valid chunked body (411 is an answer too)',
    ),
    valid(
      '1.12',
      1,
      'chunk extension',
      head('1.12', 'POST /public/up HTTP/1.1', 'Transfer-Encoding: chunked\r\n') + '5;a=b\r\nhello\r\n0\r\n\r\n',
      'chunk size line 5;a=b (valid HTTP)',
    ),
    {
      id: '1.13',
      cls: 1,
      name: 'Expect: 100-continue',
      sends: 'POST, CL 5, Expect: 100-continue; body after the 100 or 1 s',
      rule: 'a final status within 2 s of the body',
      async run(open) {
        const c = open();
        await c.write(head('1.13', 'POST /public/up HTTP/1.1', 'Content-Length: 5\r\nExpect: 100-continue\r\n'));
        await c.waitHead(1000);
        await c.write('hello');
        await c.waitResponses(1, 2000);
        return c.end();
      },
      judge: answered(3000),
    },
    bad(
      '2.1',
      2,
      'CL 0 then CL 5',
      head('2.1', 'POST /public/x HTTP/1.1', 'Content-Length: 0\r\nContent-Length: 5\r\n') + smuggled('2.1'),
      'two differing CLs + a request as body',
    ),
    bad(
      '2.2',
      2,
      'empty Content-Length',
      head('2.2', 'POST /public/x HTTP/1.1', 'Content-Length:\r\n') + smuggled('2.2'),
      'Content-Length: (empty) + a request as body',
    ),
    bad('2.3', 2, 'Content-Length +5', head('2.3', 'POST /public/x HTTP/1.1', 'Content-Length: +5\r\n') + 'hello', 'Content-Length: +5'),
    bad(
      '2.4',
      2,
      'CL and TE together',
      head('2.4', 'POST /public/x HTTP/1.1', 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n') + '0\r\n\r\n' + smuggled('2.4'),
      'CL 4 + TE chunked, a request after the last chunk',
      [400, 411],
    ),
    bad(
      '2.5',
      2,
      'TE xchunked',
      head('2.5', 'POST /public/x HTTP/1.1', 'Transfer-Encoding: xchunked\r\n') + '0\r\n\r\n',
      'Transfer-Encoding: xchunked',
      [400, 411, 501],
    ),
    bad(
      '2.6',
      2,
      'chunk size " 5"',
      head('2.6', 'POST /public/x HTTP/1.1', 'Transfer-Encoding: chunked\r\n') + ' 5\r\nhello\r\n0\r\n\r\n' + smuggled('2.6'),
      'chunk size with a leading space, then a request',
      [400, 411],
    ),
    bad(
      '2.7',
      2,
      'chunk size "zz"',
      head('2.7', 'POST /public/x HTTP/1.1', 'Transfer-Encoding: chunked\r\n') + 'zz\r\nhello\r\n0\r\n\r\n' + smuggled('2.7'),
      'non-hex chunk size, then a request',
      [400, 411],
    ),
    {
      ...valid('2.8', 2, 'bare LF line endings', `GET /public/x HTTP/1.1\nHost: h21.test\nX-Case: 2.8\n\n`, 'every line ends LF only'),
      rule: 'a status line within 2 s (RFC 9112 lets a server read LF as a line end, or 400)',
    },
    bad('2.9', 2, 'control byte in a value', head('2.9', 'GET /public/x HTTP/1.1', 'X-A: a\x01b\r\n'), 'X-A: a\\x01b'),
    bad('2.10', 2, 'space in header name', head('2.10', 'GET /public/x HTTP/1.1', 'X A: 1\r\n'), 'X A: 1'),
    bad('2.11', 2, 'space before colon', head('2.11', 'GET /public/x HTTP/1.1', 'X-A : 1\r\n'), 'X-A : 1 (RFC 9112 §5.1: 400)'),
    bad('2.12', 2, 'no Host', 'GET /public/x HTTP/1.1\r\nX-Case: 2.12\r\n\r\n', 'HTTP/1.1 request without Host'),
    bad('2.13', 2, 'two Host headers', head('2.13', 'GET /public/x HTTP/1.1', 'Host: other.test\r\n'), 'Host twice, different values'),
    bad('2.14', 2, 'invalid Host', `GET /public/x HTTP/1.1\r\nHost: h21 test/..\r\nX-Case: 2.14\r\n\r\n`, 'Host: h21 test/..'),
    bad('2.15', 2, 'request line, extra token', head('2.15', 'GET /public/x HTTP/1.1 extra'), 'GET /public/x HTTP/1.1 extra'),
    bad('2.16', 2, 'HTTP/9.9', head('2.16', 'GET /public/x HTTP/9.9'), 'GET /public/x HTTP/9.9', [400, 505]),
    bad('2.17', 2, 'method not a token', head('2.17', 'GE(T /public/x HTTP/1.1'), 'GE(T /public/x'),
    bad('2.18', 2, 'NUL in the target', head('2.18', 'GET /public/a\x00b HTTP/1.1'), 'a raw NUL byte in the request target'),
    {
      id: '2.19',
      cls: 2,
      name: 'obs-fold line',
      sends: 'X-A: 1 then a line starting with a space',
      rule: '400 within 2 s; or the fold replaced by a space when forwarded (RFC 9112 §5.2)',
      run: send(head('2.19', 'GET /public/x HTTP/1.1', 'X-A: 1\r\n folded\r\n')),
      judge: (o) => refused([400], 2000)(o) || (answered(2000)(o) && o.reqs.length > 0 && o.reqs.every((r) => !r.head.includes('\r\n '))),
    },
  ];
}

const ESCAPES = [
  ['3.1', '/public/..%2Fadmin/x', '%2F after a dot-dot'],
  ['3.2', '/public/%2e%2e/admin/x', 'encoded dot-dot'],
  ['3.3', '/public/%2e%2e%2fadmin/x', 'encoded dot-dot and slash'],
  ['3.4', '/public/..%5Cadmin/x', '%5C (backslash)'],
  ['3.5', '/public/..\\admin/x', 'raw backslash'],
  ['3.6', '/public/..;/admin/x', ';-parameter on a dot-dot'],
  ['3.7', '/public/%c0%ae%c0%ae/admin/x', 'overlong UTF-8 dots'],
  ['3.8', '/public/..%c0%afadmin/x', 'overlong UTF-8 slash'],
  ['3.9', '/public/%252e%252e%252fadmin/x', 'double-encoded dot-dot-slash'],
  ['3.10', '/public/../admin/x', 'plain dot-dot'],
];

function paths() {
  return ESCAPES.map(([id, target, what]) => ({
    id,
    cls: 3,
    name: what,
    sends: `GET ${target}`,
    rule: 'a status within 2 s; what reached the /public/ upstream resolves (decoded as an ordinary upstream would) under /public/',
    run: send(head(id, `GET ${target} HTTP/1.1`)),
    judge: (o) => {
      const escaped = o.byUpstream.public.filter((r) => !resolveLikeUpstream(r.path).startsWith('/public/'));
      o.note = o.byUpstream.public.map((r) => `public upstream resolves it to ${resolveLikeUpstream(r.path)}`).join(', ') || undefined;
      return answered(2000)(o) && escaped.length === 0;
    },
  }));
}

function limits() {
  const max = LIMITS.maxHeaderBytes;
  return [
    {
      id: '4.1',
      cls: 4,
      name: 'head 256 B under the limit',
      sends: `a ${max - 256} B head`,
      rule: '200 (the limit is not lower than configured)',
      run: send(headOfSize('4.1', max - 256)),
      judge: (o) => firstFinal(o)?.status === 200,
    },
    bad('4.2', 4, 'head 64 B over the limit', headOfSize('4.2', max + 64), `a ${max + 64} B head`, [400, 431, 494]),
    {
      id: '4.3',
      cls: 4,
      name: 'closed after the 431',
      sends: `a ${max + 64} B head`,
      rule: '400/431 within 2 s, nothing forwarded, then closed within 1 s or Connection: close',
      run: send(headOfSize('4.3', max + 64)),
      judge: refusedAndClosed([400, 431, 494], 2000, 1000),
    },
    {
      id: '4.4',
      cls: 4,
      name: 'target over the limit',
      sends: `GET /public/<${max + 100} B>`,
      rule: '400/414/431 within 2 s, nothing forwarded, then closed within 1 s or Connection: close',
      run: send(head('4.4', `GET /public/${pad(max + 100)} HTTP/1.1`)),
      judge: refusedAndClosed([400, 414, 431, 494], 2000, 1000),
    },
    bad('4.5', 4, '1000 header lines', head('4.5', 'GET /public/x HTTP/1.1', LINES_1000), '1000 lines "a: b" (6 KB, under the byte limit)', [400, 431]),
    {
      id: '4.6',
      cls: 4,
      name: 'declared body over the limit',
      sends: `POST, Content-Length ${LIMITS.maxBodyBytes * 2}, head only`,
      rule: '413 within 2 s, nothing forwarded, then closed within 1 s or Connection: close',
      run: send(head('4.6', 'POST /public/up HTTP/1.1', `Content-Length: ${LIMITS.maxBodyBytes * 2}\r\n`)),
      judge: refusedAndClosed([413], 2000, 1000),
    },
    {
      id: '4.7',
      cls: 4,
      name: 'body exactly at the limit',
      sends: `POST with a ${LIMITS.maxBodyBytes} B body`,
      rule: '200, the upstream got every byte',
      async run(open) {
        const c = open();
        await c.write(head('4.7', 'POST /public/up HTTP/1.1', `Content-Length: ${LIMITS.maxBodyBytes}\r\n`));
        await c.write(Buffer.alloc(LIMITS.maxBodyBytes, 0x61));
        await c.waitResponses(1, 4000);
        return c.end();
      },
      judge: (o) => firstFinal(o)?.status === 200 && o.reqs.length === 1 && o.reqs[0].body.length === LIMITS.maxBodyBytes,
    },
  ];
}

/** Write one byte every second until the connection closes or `ms` passed. */
async function trickle(c, bytes, ms) {
  const end = c.since() + ms;
  for (let i = 0; c.since() < end && c.rec.closedMs === null; i++) {
    await c.write(bytes[i % bytes.length]);
    await c.waitClose(1000);
  }
}

function slowClients() {
  const bodyLimit = LIMITS.clientBodyMs + 2000;
  return [
    {
      id: '5.1',
      cls: 5,
      name: 'slow body: 408',
      sends: 'POST CL 100, then 1 body byte a second',
      rule: `408 within ${bodyLimit / 1000} s (client body timeout ${LIMITS.clientBodyMs / 1000} s), then closed`,
      async run(open) {
        const c = open();
        await c.write(head('5.1', 'POST /public/slow-body HTTP/1.1', 'Content-Length: 100\r\n'));
        await trickle(c, 'x', bodyLimit + 1000);
        return c.end();
      },
      judge: (o) => firstFinal(o)?.status === 408 && statusMs(o) <= bodyLimit && o.rec.closedMs !== null,
    },
    {
      id: '5.2',
      cls: 5,
      name: 'slow body: upstream try aborted',
      sends: 'POST CL 100, then 1 body byte a second',
      rule: `the client's connection and the upstream connection (if the head was forwarded) closed within ${bodyLimit / 1000} s`,
      async run(open) {
        const c = open();
        await c.write(head('5.2', 'POST /public/slow-body HTTP/1.1', 'Content-Length: 100\r\n'));
        await trickle(c, 'x', bodyLimit + 1000);
        return c.end();
      },
      judge: (o) => o.rec.closedMs !== null && o.rec.closedMs <= bodyLimit && o.reqs.every((r) => r.closedAt !== null && r.closedAt - r.at <= bodyLimit),
    },
    {
      id: '5.3',
      cls: 5,
      name: 'stalled body: 408',
      sends: 'POST CL 100, 10 body bytes, then nothing',
      rule: `408 within ${bodyLimit / 1000} s, then closed`,
      async run(open) {
        const c = open();
        await c.write(head('5.3', 'POST /public/stalled-body HTTP/1.1', 'Content-Length: 100\r\n') + pad(10));
        await c.waitClose(bodyLimit + 1000);
        return c.end();
      },
      judge: (o) => firstFinal(o)?.status === 408 && statusMs(o) <= bodyLimit && o.rec.closedMs !== null,
    },
    {
      id: '5.4',
      cls: 5,
      name: 'slow header',
      sends: 'a request line, then 1 header byte a second',
      rule: `closed within ${LIMITS.headerMs / 1000 + 3} s (header timeout ${LIMITS.headerMs / 1000} s), 408 or not`,
      async run(open) {
        const c = open();
        await c.write(`GET /public/slow-head HTTP/1.1\r\n${HOST}X-Case: 5.4\r\nX-Slow: `);
        await trickle(c, 'abcdefgh', LIMITS.headerMs + 4000);
        return c.end();
      },
      judge: (o) => o.rec.closedMs !== null && o.rec.closedMs <= LIMITS.headerMs + 3000 && forwarded(o) === 0,
    },
    {
      id: '5.5',
      cls: 5,
      name: 'idle keep-alive',
      sends: 'one GET, then silence',
      rule: `200, then closed within ${LIMITS.keepAliveMs / 1000 + 3} s (keep-alive timeout ${LIMITS.keepAliveMs / 1000} s)`,
      async run(open) {
        const c = open();
        await c.write(head('5.5', 'GET /public/ok HTTP/1.1'));
        await c.waitResponses(1, 2000);
        await c.waitClose(LIMITS.keepAliveMs + 4000);
        return c.end();
      },
      judge: (o) => firstFinal(o)?.status === 200 && o.rec.closedMs !== null && o.rec.closedMs - o.rec.responseMs[0] <= LIMITS.keepAliveMs + 3000,
    },
    {
      id: '5.6',
      cls: 5,
      name: 'silent connection',
      sends: 'connect, send nothing',
      rule: `closed within ${LIMITS.headerMs / 1000 + 3} s`,
      async run(open) {
        const c = open();
        await c.waitClose(LIMITS.headerMs + 4000);
        return c.end();
      },
      judge: (o) => o.rec.closedMs !== null && o.rec.closedMs <= LIMITS.headerMs + 3000,
    },
  ];
}

/** A GET through the route of one fault upstream. */
const viaFault = (id, cls, name, fault, sends, rule, judge, ms = 4000) => ({
  id,
  cls,
  name,
  sends,
  rule,
  fault,
  run: send(head(id, `GET /fault/${fault}/x HTTP/1.1`), ms),
  judge,
});
const status502 = (o) => firstFinal(o)?.status === 502;
/** 502, or the head went out and the connection was cut before the body was complete (a client can tell). */
const status502OrCut = (o) => status502(o) || (o.rec.responses.length > 0 && !o.rec.responses[0].complete && o.rec.closedMs !== null);

function upstreamFaults() {
  const connectLimit = LIMITS.connectMs + 1000;
  const headerLimit = LIMITS.responseHeaderMs + 1000;
  return [
    viaFault(
      '6.1',
      6,
      'connect timeout (SYN dropped)',
      'blackhole',
      'GET to an endpoint that drops SYNs',
      `502/503/504 within ${connectLimit / 1000} s (connect timeout ${LIMITS.connectMs / 1000} s)`,
      (o) => [502, 503, 504].includes(firstFinal(o)?.status) && statusMs(o) <= connectLimit,
      connectLimit + 4000,
    ),
    viaFault(
      '6.2',
      6,
      'connection refused',
      'refused',
      'GET to a closed port',
      '502/503 within 1 s',
      (o) => [502, 503].includes(firstFinal(o)?.status) && statusMs(o) <= 1000,
    ),
    viaFault(
      '6.3',
      6,
      'no response head',
      'silent',
      'GET; the upstream reads it and says nothing',
      `504 within ${headerLimit / 1000} s (response header timeout ${LIMITS.responseHeaderMs / 1000} s)`,
      (o) => firstFinal(o)?.status === 504 && statusMs(o) <= headerLimit,
      headerLimit + 2000,
    ),
    viaFault('7.1', 7, 'one 64 KiB header line', 'bighead', 'upstream head with a 64 KiB header', '502', status502),
    viaFault('7.2', 7, '150 header lines', 'manyheaders', 'upstream head with 150 lines (6 KB)', '502', status502),
    viaFault('7.3', 7, 'status 2000', 'badstatus', 'HTTP/1.1 2000 OK', '502', status502),
    viaFault('7.4', 7, 'two Content-Lengths', 'dupcl', 'Content-Length 5 and 6', '502', status502),
    viaFault('7.5', 7, 'CL and TE together', 'clte', 'CL 40 + TE chunked, body "hello" chunked', '502, or 200 with the chunked body "hello" (TE wins)', (o) => {
      const r = firstFinal(o);
      return r?.status === 502 || (r?.status === 200 && r.complete && r.body.toString() === 'hello');
    }),
    viaFault('7.6', 7, 'header line without colon', 'nocolon', 'a header line with no colon', '502', status502),
    viaFault('7.7', 7, 'chunk size "zz"', 'badchunk', 'TE chunked, chunk size zz', '502, or the head then a cut connection', status502OrCut),
    viaFault('7.8', 7, 'body shorter than CL, then close', 'shortbody', 'CL 100, 10 bytes, close', '502, or the head then a cut connection', status502OrCut),
    viaFault(
      '7.9',
      7,
      'closed without answer',
      'closenow',
      'the upstream closes after reading the request',
      '502 within 2 s',
      (o) => status502(o) && statusMs(o) <= 2000,
    ),
    viaFault('7.10', 7, '100 Continue then 200', 'continue100', 'an unasked 100 then 200 "ok"', '200 "ok" (a 1xx is not the answer)', (o) => {
      const r = firstFinal(o);
      return r?.status === 200 && r.body.toString() === 'ok';
    }),
    {
      id: '7.11',
      cls: 7,
      name: '204 with body bytes',
      fault: 'body204',
      sends: 'first GET: 204 followed by a whole 200 response; second GET on a new client connection',
      rule: '204, then the second GET gets the real "second" answer (no response desync)',
      async run(open) {
        const a = open();
        await a.write(head('7.11', 'GET /fault/body204/first HTTP/1.1'));
        await a.waitResponses(1, 2000);
        const first = a.end();
        const b = open();
        await b.write(head('7.11', 'GET /fault/body204/second HTTP/1.1'));
        await b.waitResponses(1, 2000);
        const second = b.end();
        return { ...second, firstRec: first };
      },
      judge: (o) => {
        const first = o.rec.firstRec.responses.find((r) => r.status !== null);
        const r = firstFinal(o);
        o.note = `first got ${first?.status ?? 'nothing'}, second got ${r?.status ?? 'nothing'} "${r?.body.toString().slice(0, 10) ?? ''}"`;
        return (first?.status === 204 || first?.status === 502) && r?.status === 200 && r.body.toString() === 'second';
      },
    },
  ];
}

/** Two GETs on two client connections to one fault route: the second should go over the gateway's pooled connection. */
const twice =
  (id, fault, gapMs, second = (c) => c.write(head(id, `GET /fault/${fault}/b HTTP/1.1`))) =>
  async (open) => {
    const a = open();
    await a.write(head(id, `GET /fault/${fault}/a HTTP/1.1`));
    await a.waitResponses(1, 2000);
    const first = a.end();
    await new Promise((r) => setTimeout(r, gapMs));
    const b = open();
    await second(b);
    await b.waitResponses(1, 3000);
    return { ...b.end(), firstRec: first };
  };
const both200 = (o) => {
  const first = o.rec.firstRec.responses.find((r) => r.status !== null);
  o.note = `first got ${first?.status ?? 'nothing'}`;
  return first?.status === 200 && firstFinal(o)?.status === 200;
};

function keepAliveAndEarly() {
  return [
    {
      id: '8.1',
      cls: 8,
      name: 'reused connection dropped (GET)',
      fault: 'dropreused',
      sends: 'GET, then a second GET; the upstream closes any connection a second request arrives on',
      rule: 'both 200 (an idempotent request that got nothing is retried once on a fresh connection)',
      run: twice('8.1', 'dropreused', 100),
      judge: both200,
    },
    {
      id: '8.2',
      cls: 8,
      name: 'reused connection reset (GET)',
      fault: 'resetreused',
      sends: 'GET, then a second GET; the upstream resets (RST) any connection a second request arrives on',
      rule: 'both 200 (an idempotent request that got nothing is retried once on a fresh connection)',
      run: twice('8.2', 'resetreused', 100),
      judge: both200,
    },
    {
      id: '8.3',
      cls: 8,
      name: 'Keep-Alive: timeout=1 honoured',
      fault: 'katimeout',
      sends: 'GET; upstream says Keep-Alive: timeout=1 and closes idle connections at 1 s; second GET at 1 s',
      rule: 'both 200',
      run: twice('8.3', 'katimeout', 990),
      judge: both200,
    },
    {
      id: '8.4',
      cls: 8,
      name: 'reused connection dropped (POST)',
      fault: 'dropreusedpost',
      sends: 'GET, then a POST the upstream drops on the reused connection',
      rule: 'an answer within 3 s, and the upstream saw the POST at most once (not retried: it may have been processed)',
      run: twice('8.4', 'dropreusedpost', 100, (c) => c.write(head('8.4', 'POST /fault/dropreusedpost/b HTTP/1.1', 'Content-Length: 5\r\n') + 'hello')),
      judge: (o) => {
        const posts = o.fault.filter((r) => r.method === 'POST').length;
        o.note = `upstream saw the POST ${posts}×`;
        return answered(3000)(o) && posts <= 1;
      },
    },
    ...['early', 'early413'].map((fault, i) => ({
      id: `9.${i + 1}`,
      cls: 9,
      name: fault === 'early' ? '200 before the body was read' : '413 + close before the body was read',
      fault,
      sends: 'POST CL 100000, 1000 body bytes; the upstream answers at once',
      rule: 'the answer within 2 s; then either Connection: close and a close within 2 s, or the connection still works (rest of body + a GET → 200)',
      async run(open) {
        const c = open();
        await c.write(head(`9.${i + 1}`, `POST /fault/${fault}/x HTTP/1.1`, 'Content-Length: 100000\r\n') + pad(1000));
        await c.waitResponses(1, 2000);
        const r = c.rec.responses[0];
        if (r?.complete && !/close/i.test(r.headers.connection ?? '') && c.rec.closedMs === null) {
          await c.write(pad(99000) + head(`9.${i + 1}`, 'GET /public/ok HTTP/1.1'));
          await c.waitResponses(2, 2000);
        }
        await c.waitClose(2000);
        return c.end();
      },
      judge: (o) => {
        const [r, next] = o.rec.responses;
        if (r?.status == null || statusMs(o) > 2000) return false;
        if (/close/i.test(r.headers.connection ?? '')) return o.rec.closedMs !== null && o.rec.closedMs - statusMs(o) <= 2000;
        o.note = `no Connection: close; next answer ${next?.status ?? 'none'}`;
        return next?.status === 200 && next.body.toString() === 'public';
      },
    })),
  ];
}

/** Class 10 runs last, alone per target: `signal()` starts the target's graceful stop (sluice SIGTERM, nginx SIGQUIT). */
export function lifecycle() {
  return [
    {
      id: '10.1',
      cls: 10,
      name: 'in-flight response says close',
      fault: 'slow',
      sends: 'GET answered after 1.5 s; the stop signal at 0.3 s',
      rule: 'a complete 200 with Connection: close, no reset',
      async run(open, signal) {
        const c = open();
        await c.write(head('10.1', 'GET /fault/slow/x HTTP/1.1'));
        await c.sleep(300);
        signal();
        await c.waitResponses(1, 4000);
        await c.waitClose(1000);
        return c.end();
      },
      judge: (o) => {
        const r = firstFinal(o);
        return r?.status === 200 && r.complete && /close/i.test(r.headers.connection ?? '') && !o.rec.reset;
      },
    },
    {
      id: '10.2',
      cls: 10,
      name: 'idle keep-alive closed',
      sends: 'GET /public/ok, keep the connection idle; the stop signal',
      rule: 'the idle connection closed within 1 s of the signal, no reset',
      async run(open, _signal, signalled) {
        const c = open();
        await c.write(head('10.2', 'GET /public/ok HTTP/1.1'));
        await c.waitResponses(1, 2000);
        await signalled;
        const at = c.since();
        await c.waitClose(3000);
        const rec = c.end();
        rec.signalMs = at;
        return rec;
      },
      judge: (o) => {
        o.note = o.rec.signalMs !== undefined ? `signal at ${o.rec.signalMs} ms` : undefined;
        return firstFinal(o)?.status === 200 && o.rec.closedMs !== null && o.rec.closedMs - o.rec.signalMs <= 1000 && !o.rec.reset;
      },
    },
  ];
}

export function catalog() {
  return [...frontDoor(), ...paths(), ...limits(), ...slowClients(), ...upstreamFaults(), ...keepAliveAndEarly()];
}

/** Upstream routes the cases need, besides public and admin: route name → behaviour. */
export const FAULT_ROUTES = {
  bighead: 'bighead',
  manyheaders: 'manyheaders',
  badstatus: 'badstatus',
  dupcl: 'dupcl',
  clte: 'clte',
  nocolon: 'nocolon',
  badchunk: 'badchunk',
  shortbody: 'shortbody',
  closenow: 'closenow',
  silent: 'silent',
  continue100: 'continue100',
  body204: 'body204',
  dropreused: 'dropreused',
  dropreusedpost: 'dropreused',
  resetreused: 'resetreused',
  katimeout: 'katimeout',
  early: 'early',
  early413: 'early413',
  slow: 'slow',
};
