import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineName, lineValue, NO_LINES } from '../../src/http/head-lines.js';
import { incompleteHeadProblem, type ParsedHead, parseHead } from '../../src/upstream/http1/response-head.js';

// parseHead() is what stands between an upstream's bytes and a pooled connection's framing: every
// head RFC 9112 does not allow must be refused (an error string), never guessed at.

function fresh(): ParsedHead {
  return { status: 0, lines: NO_LINES, contentLength: -1, chunked: false, keepAlive: true, keepAliveHintMs: -1, connectionNamed: null };
}

/** Parse a head given as latin1 text (it must end with CRLF CRLF, as the connection hands it over). */
function parse(text: string): { error: string | null; head: ParsedHead } {
  const buf = Buffer.from(text, 'latin1');
  const head = fresh();
  return { error: parseHead(buf, 0, buf.length, head, 100), head };
}

/** Parse a head that must be accepted; returns the parsed fields. */
function ok(text: string): ParsedHead {
  const { error, head } = parse(text);
  assert.equal(error, null, `expected ${JSON.stringify(text)} to be accepted`);
  return head;
}

/** A head that must be refused: parseHead says what is wrong (a non-empty string). */
function refused(text: string): string {
  const { error } = parse(text);
  assert.notEqual(error, null, `expected ${JSON.stringify(text)} to be refused`);
  assert.equal(typeof error, 'string');
  assert.ok(error!.length > 0);
  return error!;
}

const head = (statusLine: string, ...fields: string[]) => [statusLine, ...fields].join('\r\n') + '\r\n\r\n';

/** The headers as [name, value] string pairs, as they would be relayed. */
function pairs(h: ParsedHead): [string, string][] {
  const out: [string, string][] = [];
  for (let k = 0; k < h.lines.at.length; k += 4) out.push([lineName(h.lines, k), lineValue(h.lines, k)]);
  return out;
}

// ── accepted ──────────────────────────────────────────────────────────────────────────────

test('a plain HTTP/1.1 head: status, Content-Length, headers as sent, keep-alive', () => {
  const h = ok(head('HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 5', 'X-Mixed-Case: Value'));
  assert.equal(h.status, 200);
  assert.equal(h.contentLength, 5);
  assert.equal(h.chunked, false);
  assert.equal(h.keepAlive, true);
  assert.equal(h.keepAliveHintMs, -1);
  assert.deepEqual(pairs(h), [
    ['Content-Type', 'text/plain'],
    ['Content-Length', '5'],
    ['X-Mixed-Case', 'Value'],
  ]);
});

test('the status line may have no reason phrase, an empty one, or one with spaces and obs-text', () => {
  assert.equal(ok(head('HTTP/1.1 204')).status, 204);
  assert.equal(ok(head('HTTP/1.1 404 ')).status, 404);
  assert.equal(ok(head('HTTP/1.1 503 Service Temporarily\tUnavailable')).status, 503);
  assert.equal(ok(head('HTTP/1.1 200 D\xe9j\xe0 vu')).status, 200);
  assert.equal(ok(head('HTTP/1.1 599 Edge')).status, 599);
  assert.equal(ok(head('HTTP/1.1 100 Continue')).status, 100, '1xx heads parse (the connection reads past them)');
});

test('a head with no header fields at all', () => {
  const h = ok('HTTP/1.1 200 OK\r\n\r\n');
  assert.equal(h.status, 200);
  assert.deepEqual(pairs(h), []);
  assert.equal(h.contentLength, -1);
  assert.equal(h.chunked, false);
});

test('HTTP/1.0 ends the connection unless it asks for keep-alive', () => {
  assert.equal(ok(head('HTTP/1.0 200 OK', 'Content-Length: 1')).keepAlive, false);
  assert.equal(ok(head('HTTP/1.0 200 OK', 'Connection: keep-alive')).keepAlive, true);
});

test('Connection: close ends the connection, in any case and among other tokens', () => {
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: close')).keepAlive, false);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'connection: CLOSE')).keepAlive, false);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: X-Hop, close')).keepAlive, false);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: X-Hop')).keepAlive, true);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: closed')).keepAlive, true, 'only the whole token "close" counts');
});

test('Connection: close in one of several Connection fields still ends the connection', () => {
  // Connection is a list: two fields mean "close, keep-alive", and close wins (RFC 9112 §9.6).
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: keep-alive', 'Connection: close')).keepAlive, false);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: close', 'Connection: keep-alive')).keepAlive, false);
});

test('the names every Connection field lists are gathered, lower-cased; close and keep-alive alone list none', () => {
  assert.deepEqual(ok(head('HTTP/1.1 200 OK', 'Connection: X_Private', 'X_Private: 1', 'Connection: x-b, X^Caret')).connectionNamed, [
    'x_private',
    'x-b',
    'x^caret',
  ]);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Connection: keep-alive')).connectionNamed, null);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Content-Length: 0')).connectionNamed, null);
});

test('Keep-Alive: timeout=N is read as a hint in milliseconds', () => {
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=5')).keepAliveHintMs, 5000);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=5, max=1000')).keepAliveHintMs, 5000);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'keep-alive: max=1000, Timeout=2')).keepAliveHintMs, 2000);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: max=1000')).keepAliveHintMs, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: mytimeout=9')).keepAliveHintMs, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: max=10,timeout=7')).keepAliveHintMs, 7000);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=')).keepAliveHintMs, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=x5')).keepAliveHintMs, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=1234567890')).keepAliveHintMs, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=123456789')).keepAliveHintMs, 123456789000);
});

test('header values lose their surrounding spaces and tabs (OWS), never inner ones', () => {
  const h = ok(head('HTTP/1.1 200 OK', 'X-A: \t  spaced  out \t ', 'X-B:tight', 'X-Empty:', 'X-Blank:   \t', 'Content-Length:  12'));
  assert.deepEqual(pairs(h), [
    ['X-A', 'spaced  out'],
    ['X-B', 'tight'],
    ['X-Empty', ''],
    ['X-Blank', ''],
    ['Content-Length', '12'],
  ]);
  assert.equal(h.contentLength, 12);
});

test('Content-Length and Transfer-Encoding are recognised whatever their case', () => {
  assert.equal(ok(head('HTTP/1.1 200 OK', 'content-LENGTH: 7')).contentLength, 7);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'CONTENT-LENGTH: 0')).contentLength, 0);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'transfer-encoding: chunked')).chunked, true);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'TRANSFER-Encoding: Chunked')).chunked, true);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Transfer-Encoding:  chunked')).chunked, true);
});

// Issue 21, corpus case "Content-Length with trailing HTAB": undici reads "5\t" as another length.
test('whitespace after a Content-Length or Transfer-Encoding value is refused; before it, not', () => {
  for (const line of ['Content-Length: 5 ', 'Content-Length: 5\t', 'content-length: 5  ', 'Transfer-Encoding: chunked ', 'Transfer-Encoding: chunked\t'])
    assert.equal(refused(head('HTTP/1.1 200 OK', line)), 'whitespace after a framing header value', line);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Content-Length:\t5')).contentLength, 5);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'X-Other: 5 \t')).contentLength, -1);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Content-Type: a ', 'Content-Length: 1')).contentLength, 1);
});

test('Content-Length of 15 digits is the longest accepted', () => {
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Content-Length: 999999999999999')).contentLength, 999_999_999_999_999);
  assert.equal(ok(head('HTTP/1.1 200 OK', 'Content-Length: 000000000000042')).contentLength, 42);
});

test('obs-text (bytes 0x80-0xff) and HTAB are allowed in values', () => {
  const h = ok(head('HTTP/1.1 200 OK', 'X-Latin: caf\xe9\tcr\xe8me'));
  assert.deepEqual(pairs(h), [['X-Latin', 'caf\xe9\tcr\xe8me']]);
});

test('a head in the middle of a buffer is parsed in place (pipelined answers)', () => {
  const before = 'previous body bytes';
  const text = head('HTTP/1.1 201 Created', 'Content-Length: 3', 'Location: /x');
  const buf = Buffer.from(before + text + 'abcHTTP/1.1 200 OK\r\n', 'latin1');
  const h = fresh();
  assert.equal(parseHead(buf, before.length, before.length + text.length, h, 100), null);
  assert.equal(h.status, 201);
  assert.equal(h.contentLength, 3);
  assert.deepEqual(pairs(h), [
    ['Content-Length', '3'],
    ['Location', '/x'],
  ]);
});

test('a reused result object is reset by each parse', () => {
  const h = fresh();
  const first = Buffer.from(head('HTTP/1.0 200 OK', 'Content-Length: 9', 'Keep-Alive: timeout=3'), 'latin1');
  assert.equal(parseHead(first, 0, first.length, h, 100), null);
  const second = Buffer.from(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'latin1');
  assert.equal(parseHead(second, 0, second.length, h, 100), null);
  assert.equal(h.contentLength, -1);
  assert.equal(h.chunked, true);
  assert.equal(h.keepAlive, true);
  assert.equal(h.keepAliveHintMs, -1);
  assert.deepEqual(pairs(h), [['Transfer-Encoding', 'chunked']]);
});

// ── refused ───────────────────────────────────────────────────────────────────────────────

test('anything but HTTP/1.0 or HTTP/1.1 in the status line is refused', () => {
  for (const line of [
    'HTTP/2.0 200 OK',
    'HTTP/1.2 200 OK',
    'HTTP/1.x 200 OK',
    'http/1.1 200 OK',
    'HTTPS/1.1 200 OK',
    'ICY 200 OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1\t200 OK',
    ' HTTP/1.1 200 OK',
    'HTTP/11 200 OK',
  ]) {
    refused(head(line, 'Content-Length: 0'));
  }
});

test('a status code that is not three digits from 100 to 599 is refused', () => {
  for (const line of [
    'HTTP/1.1 2x0 OK',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 000 OK',
    'HTTP/1.1 099 OK',
    'HTTP/1.1 600 OK',
    'HTTP/1.1 999 OK',
    'HTTP/1.1 -20 OK',
    'HTTP/1.1 +20 OK',
    'HTTP/1.1 20',
    'HTTP/1.1 OK',
  ]) {
    refused(head(line));
  }
});

test('a control byte in the reason phrase is refused', () => {
  refused(head('HTTP/1.1 200 O\x01K'));
  refused(head('HTTP/1.1 200 O\x7fK'));
  refused(head('HTTP/1.1 200 O\nK'));
  refused(head('HTTP/1.1 200 OK\rX'));
});

test('a status line ended by a bare LF is refused', () => {
  refused('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n');
});

test('two Content-Length fields are refused, even with the same value', () => {
  assert.match(refused(head('HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 5')), /Content-Length/);
  refused(head('HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 6'));
  refused(head('HTTP/1.1 200 OK', 'content-length: 0', 'Content-Length: 0'));
});

test('a Content-Length that is not 1 to 15 decimal digits is refused', () => {
  for (const v of ['abc', '', '  ', '1234567890123456', '0000000000000000', '+5', '-1', '0x5', '5 5', '5,5', '5, 5', '1e3', '5.0']) {
    refused(head('HTTP/1.1 200 OK', `Content-Length: ${v}`));
  }
});

test('Transfer-Encoding other than exactly "chunked" is refused', () => {
  for (const v of ['gzip, chunked', 'chunked, gzip', 'xchunked', 'chunkedx', 'chunked, chunked', 'identity', 'gzip', '', 'chun ked', '"chunked"']) {
    refused(head('HTTP/1.1 200 OK', `Transfer-Encoding: ${v}`));
  }
});

test('two Transfer-Encoding fields are refused, even both "chunked"', () => {
  refused(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'));
  refused(head('HTTP/1.1 200 OK', 'transfer-encoding: chunked', 'X-Other: 1', 'Transfer-Encoding: chunked'));
});

test('Transfer-Encoding with Content-Length is refused, in either order', () => {
  assert.match(refused(head('HTTP/1.1 200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked')), /Content-Length|Transfer-Encoding/);
  refused(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 5'));
  refused(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 0'));
});

test('obs-fold (a field line starting with SP or HTAB) is refused', () => {
  refused(head('HTTP/1.1 200 OK', 'X-Folded: first', ' second', 'Content-Length: 0'));
  refused(head('HTTP/1.1 200 OK', 'X-Folded: first', '\tsecond'));
  refused(head('HTTP/1.1 200 OK', ' Content-Length: 0'));
  // The smuggling form: a folded line that would hide a framing header from a lenient parser.
  refused(head('HTTP/1.1 200 OK', 'X-A: b', ' Transfer-Encoding: chunked', 'Content-Length: 3'));
});

test('whitespace between a header name and its colon is refused', () => {
  refused(head('HTTP/1.1 200 OK', 'Content-Length : 5'));
  refused(head('HTTP/1.1 200 OK', 'Transfer-Encoding\t: chunked'));
  refused(head('HTTP/1.1 200 OK', 'X-A : b'));
});

test('a bare CR or LF inside a header value is refused', () => {
  refused(head('HTTP/1.1 200 OK', 'X-A: a\rb'));
  refused(head('HTTP/1.1 200 OK', 'X-A: a\r'));
  refused(head('HTTP/1.1 200 OK', 'X-A: a\nb'));
  refused(head('HTTP/1.1 200 OK', 'X-A: a\nContent-Length: 5'));
  refused('HTTP/1.1 200 OK\r\nX-A: a\n\r\n\r\n');
});

test('control bytes other than HTAB in a header value are refused', () => {
  for (const c of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f']) {
    refused(head('HTTP/1.1 200 OK', `X-A: a${c}b`));
    refused(head('HTTP/1.1 200 OK', `X-A: ${c}`));
  }
});

test('an empty or invalid header name is refused', () => {
  refused(head('HTTP/1.1 200 OK', ': value'));
  refused(head('HTTP/1.1 200 OK', ':'));
  refused(head('HTTP/1.1 200 OK', 'X(A): b'));
  refused(head('HTTP/1.1 200 OK', 'X"A: b'));
  refused(head('HTTP/1.1 200 OK', 'X/A: b'));
  refused(head('HTTP/1.1 200 OK', 'X\x01A: b'));
  refused(head('HTTP/1.1 200 OK', 'X\xe9: b'));
  refused(head('HTTP/1.1 200 OK', 'NoColonHere'));
});

test('limits.upstream_header_count: the limit in header lines passes, one more is refused', () => {
  const fields = (n: number) => Array.from({ length: n }, (_, k) => `X-${k}: v`);
  const at = (n: number, max: number) => {
    const buf = Buffer.from(head('HTTP/1.1 200 OK', ...fields(n)), 'latin1');
    return parseHead(buf, 0, buf.length, fresh(), max);
  };
  assert.equal(at(100, 100), null);
  assert.equal(at(101, 100), 'more than 100 header lines');
  assert.equal(at(1, 1), null);
  assert.equal(at(2, 1), 'more than 1 header lines');
  assert.equal(at(0, 1), null);
});

// Issue 21, corpus case "204 with Content-Length and a body": never a Content-Length in a 204 (RFC 9110 §8.6).
test('a 204 with a non-zero Content-Length is refused; 0, and a 304 with one, pass', () => {
  assert.equal(refused(head('HTTP/1.1 204 No Content', 'Content-Length: 5')), 'a 204 with a non-zero Content-Length');
  assert.equal(ok(head('HTTP/1.1 204 No Content', 'Content-Length: 0')).contentLength, 0);
  assert.equal(ok(head('HTTP/1.1 304 Not Modified', 'Content-Length: 5')).contentLength, 5);
});

// Issue 21, corpus case "bare LF line endings, connection kept open": such a head never has its CRLF
// CRLF, so it was refused only at the header timeout (504). An incomplete head is checked as it comes.
test('an incomplete head is refused at once when it cannot become a head', () => {
  const check = (text: string, from = 0, start = 0) => {
    const buf = Buffer.from(text, 'latin1');
    return incompleteHeadProblem(buf, start, from, buf.length);
  };
  assert.equal(check('HTTP/1.1 200 OK\r\nContent-Le'), null);
  assert.equal(check('HTTP/1.1 200 OK\r'), null, 'CR at the end: the LF may follow');
  assert.equal(check('HTT'), null);
  assert.equal(check(''), null);
  assert.equal(check('HTTP/1.1 200 OK\nContent-Length: 5\n'), 'bare LF in the response head');
  assert.equal(check('HTTP/1.1 200 OK\r\nX: a\nY'), 'bare LF in the response head');
  assert.equal(check('\n'), 'not an HTTP/1.x status line');
  assert.equal(check('-ERR unknown'), 'not an HTTP/1.x status line');
  assert.equal(check('http/1.1 200'), 'not an HTTP/1.x status line');
  assert.equal(check('HTX'), 'not an HTTP/1.x status line');
  // Only the new bytes are looked at, with the byte before them for a CR.
  assert.equal(check('HTTP/1.1 200 OK\r\nX: a\nY', 22), null, 'the bare LF came before `from`');
  assert.equal(check('HTTP/1.1 200 OK\r\nX: a\r\nY', 23), null, 'the CR is just before `from`');
  assert.equal(check('HTTP/1.1 200 OK\r\nX: a\r\nY', 22), null);
  assert.equal(check('HT\nTP', 2), 'not an HTTP/1.x status line');
  // A head after a 1xx starts mid-buffer.
  assert.equal(check('xxHTTP/1.1 200 OK\r\n', 2, 2), null);
  assert.equal(check('xxHTTP/1.1 200 OK\n', 2, 2), 'bare LF in the response head');
});
