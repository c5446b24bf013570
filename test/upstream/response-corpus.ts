/**
 * Malformed and edge-case upstream responses, as plain data, for the differential test
 * (test/integration/upstream-response-differential.test.ts): each case is replayed byte for byte by a
 * raw TCP upstream, which closes its side once the bytes are written (unless `hold`).
 *
 * `bytes` is latin1 text (one char per byte). `notes` says what the case is about and what RFC 9112
 * says of it; where sluice and undici (llhttp) are known to differ, the test's `EXPECTED_DIFFERENCES`
 * says why that is right.
 */
export interface ResponseCase {
  readonly name: string;
  readonly bytes: string;
  /** The request's method (GET unless said). */
  readonly method?: 'GET' | 'HEAD';
  /** The upstream keeps the connection open after the bytes (a parser must not wait for more). */
  readonly hold?: boolean;
  readonly notes: string;
}

const CRLF = '\r\n';
/** A head from its lines (status line first), ended by the empty line. */
const head = (...lines: string[]) => lines.join(CRLF) + CRLF + CRLF;
const ok = (...fields: string[]) => head('HTTP/1.1 200 OK', ...fields);

export const RESPONSE_CORPUS: readonly ResponseCase[] = [
  // ── status line ─────────────────────────────────────────────────────────────────────────────
  { name: 'baseline', bytes: ok('Content-Length: 5') + 'hello', notes: 'a well-formed answer: both relay it' },
  { name: 'reason missing, SP kept', bytes: 'HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhello', notes: 'reason-phrase may be empty (RFC 9112 §4)' },
  {
    name: 'reason missing, no SP',
    bytes: 'HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello',
    notes: 'the SP is required, but recipients should accept its absence',
  },
  { name: 'status 2000', bytes: 'HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'status-code is exactly 3 digits' },
  { name: 'status 600', bytes: 'HTTP/1.1 600 Odd\r\nContent-Length: 5\r\n\r\nhello', notes: 'RFC 9110 §15: 100-599' },
  { name: 'status 099', bytes: 'HTTP/1.1 099 Odd\r\nContent-Length: 5\r\n\r\nhello', notes: 'below 100' },
  { name: 'HTTP/1.2', bytes: 'HTTP/1.2 200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'no such version; a proxy speaks 1.0 or 1.1' },
  { name: 'HTTP/2.0 in an HTTP/1 status line', bytes: 'HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'not HTTP/1.x framing' },
  { name: 'lowercase http', bytes: 'http/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'HTTP-name is case-sensitive' },
  { name: 'two spaces before the status', bytes: 'HTTP/1.1  200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'exactly one SP' },
  { name: 'HTAB after the version', bytes: 'HTTP/1.1\t200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'exactly one SP' },
  { name: 'not HTTP at all', bytes: 'hello world\r\n\r\n', notes: 'an HTTP/0.9-style or foreign protocol answer' },
  {
    name: 'not HTTP, connection kept open',
    bytes: '-ERR unknown command\r\n',
    hold: true,
    notes: 'another protocol on the port: refuse now, not at the header timeout',
  },
  { name: 'HTTP/1.0 with Content-Length', bytes: 'HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello', notes: 'valid; the connection ends with it' },
  { name: 'control byte in the reason', bytes: 'HTTP/1.1 200 O\x01K\r\nContent-Length: 5\r\n\r\nhello', notes: 'reason-phrase is HTAB, SP, VCHAR, obs-text' },

  // ── header syntax ───────────────────────────────────────────────────────────────────────────
  { name: 'space before the colon (Content-Length)', bytes: ok('Content-Length : 5') + 'hello', notes: 'RFC 9112 §5.1: must reject (502)' },
  { name: 'space before the colon (other field)', bytes: ok('Content-Length: 5', 'X-A : b') + 'hello', notes: 'RFC 9112 §5.1: must reject' },
  { name: 'obs-fold', bytes: ok('Content-Length: 5', 'X-A: a', ' b') + 'hello', notes: 'RFC 9112 §5.2: a proxy must reject or replace with SP' },
  { name: 'obs-fold of Content-Length', bytes: ok('X-A: a', 'Content-Length:', ' 5') + 'hello', notes: 'folded framing header' },
  { name: 'NUL in a value', bytes: ok('Content-Length: 5', 'X-A: a\x00b') + 'hello', notes: 'RFC 9110 §5.5: NUL must be rejected or replaced' },
  { name: 'bare CR in a value', bytes: ok('Content-Length: 5', 'X-A: a\rb') + 'hello', notes: 'RFC 9110 §5.5' },
  { name: 'DEL in a value', bytes: ok('Content-Length: 5', 'X-A: a\x7fb') + 'hello', notes: 'not a field-vchar' },
  { name: 'obs-text in a value', bytes: ok('Content-Length: 5', 'X-A: caf\xe9') + 'hello', notes: 'obs-text is allowed: both relay it' },
  { name: 'empty header name', bytes: ok('Content-Length: 5', ': v') + 'hello', notes: 'field-name is a token (1*tchar)' },
  { name: 'header line without a colon', bytes: ok('Content-Length: 5', 'NoColon') + 'hello', notes: 'not a field line' },
  { name: 'non-token byte in a name', bytes: ok('Content-Length: 5', 'X(A): b') + 'hello', notes: 'field-name is a token' },
  {
    name: 'bare LF line endings',
    bytes: 'HTTP/1.1 200 OK\nContent-Length: 5\n\nhello',
    notes: 'RFC 9112 §2.2 may accept; sluice does not (framing on a pooled connection)',
  },
  {
    name: 'bare LF line endings, connection kept open',
    bytes: 'HTTP/1.1 200 OK\nContent-Length: 5\n\nhello',
    hold: true,
    notes: 'no CRLF CRLF will ever come: refuse now, not at the header timeout',
  },
  {
    name: 'bare LF ending one header line',
    bytes: 'HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 5\r\n\r\nhello',
    notes: 'mixed line endings: smuggling territory',
  },
  { name: 'empty value', bytes: ok('Content-Length: 5', 'X-Empty:') + 'hello', notes: 'valid' },
  { name: 'value with trailing HTAB', bytes: ok('Content-Length: 5', 'X-A: b\t') + 'hello', notes: 'OWS around a value is not part of it' },
  {
    name: 'Content-Length with trailing HTAB',
    bytes: ok('Content-Length: 5\t') + 'hello',
    notes: 'OWS, but undici misreads it: sluice refuses OWS after a framing value',
  },
  { name: 'Content-Length with trailing SP', bytes: ok('Content-Length: 5 ') + 'hello', notes: 'OWS, read as 5 by undici; refused by sluice as above' },
  { name: 'Content-Length with leading HTAB', bytes: ok('Content-Length:\t5') + 'hello', notes: 'valid OWS before the value' },

  // ── Content-Length and Transfer-Encoding ────────────────────────────────────────────────────
  {
    name: 'CL and TE: chunked',
    bytes: ok('Content-Length: 5', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n',
    notes: 'RFC 9112 §6.1: TE overrides; a proxy ought to treat it as an error',
  },
  { name: 'duplicate CL, same value', bytes: ok('Content-Length: 5', 'Content-Length: 5') + 'hello', notes: 'RFC 9112 §6.3 allows accepting; sluice refuses' },
  { name: 'duplicate CL, different values', bytes: ok('Content-Length: 5', 'Content-Length: 6') + 'hello!', notes: 'must be treated as an error' },
  { name: 'CL as a list "5, 5"', bytes: ok('Content-Length: 5, 5') + 'hello', notes: 'a list of one value repeated: may be accepted; sluice refuses' },
  { name: 'CL not a number', bytes: ok('Content-Length: abc') + 'hello', notes: 'invalid' },
  { name: 'CL negative', bytes: ok('Content-Length: -1') + 'hello', notes: 'invalid' },
  { name: 'CL with a plus sign', bytes: ok('Content-Length: +5') + 'hello', notes: 'invalid: 1*DIGIT' },
  { name: 'CL empty', bytes: ok('Content-Length:') + 'hello', notes: 'invalid' },
  { name: 'CL of 16 digits', bytes: ok('Content-Length: 1000000000000000') + 'hello', notes: 'beyond what either side can count; the close comes first' },
  { name: 'TE: identity', bytes: ok('Transfer-Encoding: identity') + 'hello', notes: 'not a registered coding in HTTP/1.1 any more' },
  {
    name: 'TE: gzip, chunked',
    bytes: ok('Transfer-Encoding: gzip, chunked') + '5\r\nhello\r\n0\r\n\r\n',
    notes: 'valid HTTP, but the body is gzip: sluice relays no codings it does not decode',
  },
  {
    name: 'TE: chunked twice (two lines)',
    bytes: ok('Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n',
    notes: 'chunked applied twice',
  },
  { name: 'TE: Chunked (case)', bytes: ok('Transfer-Encoding: Chunked') + '5\r\nhello\r\n0\r\n\r\n', notes: 'codings are case-insensitive: valid' },
  { name: 'CL with leading zeros', bytes: ok('Content-Length: 005') + 'hello', notes: 'valid: 1*DIGIT' },
  {
    name: 'body longer than Content-Length',
    bytes: ok('Content-Length: 3') + 'hello',
    notes: 'the answer is the first 3 bytes; the rest is not an answer (the connection is dropped)',
  },
  {
    name: 'TE: "chunked," (trailing comma)',
    bytes: ok('Transfer-Encoding: chunked,') + '5\r\nhello\r\n0\r\n\r\n',
    notes: 'an empty list element; sluice takes only exactly "chunked"',
  },
  { name: 'TE: chunked with Connection: close', bytes: ok('Transfer-Encoding: chunked', 'Connection: close') + '5\r\nhello\r\n0\r\n\r\n', notes: 'valid' },
  {
    name: 'TE: chunked in HTTP/1.0',
    bytes: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    notes: 'RFC 9112 §6.1: faulty framing',
  },

  // ── chunked bodies ──────────────────────────────────────────────────────────────────────────
  { name: 'chunked, valid', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', notes: 'both relay "hello world"' },
  { name: 'chunk size not hex', bytes: ok('Transfer-Encoding: chunked') + 'zz\r\nhello\r\n0\r\n\r\n', notes: 'invalid' },
  { name: 'chunk size 0x5', bytes: ok('Transfer-Encoding: chunked') + '0x5\r\nhello\r\n0\r\n\r\n', notes: 'no prefix in chunk-size' },
  { name: 'chunk extension', bytes: ok('Transfer-Encoding: chunked') + '5;a=b\r\nhello\r\n0\r\n\r\n', notes: 'valid: extensions are ignored' },
  { name: 'chunk size with a leading space', bytes: ok('Transfer-Encoding: chunked') + ' 5\r\nhello\r\n0\r\n\r\n', notes: 'invalid' },
  {
    name: 'chunk size with trailing space',
    bytes: ok('Transfer-Encoding: chunked') + '5 \r\nhello\r\n0\r\n\r\n',
    notes: 'BWS before an extension only; no extension follows',
  },
  {
    name: 'chunk extension with whitespace before ";"',
    bytes: ok('Transfer-Encoding: chunked') + '5 ;a=b\r\nhello\r\n0\r\n\r\n',
    notes: 'BWS is in the RFC grammar; llhttp refuses it, so sluice does',
  },
  { name: 'chunk extension, quoted value', bytes: ok('Transfer-Encoding: chunked') + '5;a="x y"\r\nhello\r\n0\r\n\r\n', notes: 'valid' },
  {
    name: 'chunk extension without a name',
    bytes: ok('Transfer-Encoding: chunked') + '5;\r\nhello\r\n0\r\n\r\n',
    notes: 'invalid: ";" must be followed by a token',
  },
  { name: 'no CRLF after chunk data', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhelloX\r\n0\r\n\r\n', notes: 'data longer than its size' },
  { name: 'bare LF after chunk data', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\n0\r\n\r\n', notes: 'chunk framing uses CRLF' },
  { name: 'bare LF after the chunk size', bytes: ok('Transfer-Encoding: chunked') + '5\nhello\r\n0\r\n\r\n', notes: 'chunk framing uses CRLF' },
  { name: 'trailers', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nX-T: v\r\n\r\n', notes: 'valid; trailers are not relayed' },
  { name: 'trailer with a NUL', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nX-T: a\x00b\r\n\r\n', notes: 'invalid trailer field' },
  { name: 'trailer without a colon', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nNoColon\r\n\r\n', notes: 'a trailer is a field line' },
  { name: 'trailer with obs-fold', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n', notes: 'no obs-fold' },
  { name: 'chunk size of 16 hex digits', bytes: ok('Transfer-Encoding: chunked') + 'ffffffffffffffff\r\nhello\r\n0\r\n\r\n', notes: 'overflow' },
  { name: 'last chunk without the final CRLF, then close', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n', notes: 'the body never ended' },

  // ── early close ─────────────────────────────────────────────────────────────────────────────
  { name: 'close before any byte', bytes: '', notes: 'no answer at all' },
  { name: 'close mid status line', bytes: 'HTTP/1.1 20', notes: 'no head' },
  { name: 'close mid head', bytes: 'HTTP/1.1 200 OK\r\nContent-Le', notes: 'no head' },
  { name: 'close mid body (Content-Length)', bytes: ok('Content-Length: 10') + 'hello', notes: 'the body is short' },
  { name: 'empty body, no length, close', bytes: ok('X-A: b'), notes: 'valid: a close-delimited empty body' },
  { name: 'close mid chunk', bytes: ok('Transfer-Encoding: chunked') + 'a\r\nhello', notes: 'the body is short' },
  { name: 'close before the last chunk', bytes: ok('Transfer-Encoding: chunked') + '5\r\nhello\r\n', notes: 'the body never ended' },
  { name: 'no length, Connection: close: read to EOF', bytes: ok('Connection: close') + 'hello', notes: 'valid: the close delimits the body' },
  { name: 'no length, no Connection: read to EOF', bytes: ok('X-A: b') + 'hello', notes: 'valid: the close delimits the body' },
  { name: 'HTTP/1.0, no length: read to EOF', bytes: 'HTTP/1.0 200 OK\r\n\r\nhello', notes: 'valid' },

  // ── 1xx before the final answer ─────────────────────────────────────────────────────────────
  { name: '100 Continue, then 200', bytes: head('HTTP/1.1 100 Continue') + ok('Content-Length: 5') + 'hello', notes: 'the 100 is not relayed' },
  {
    name: '103 Early Hints, then 200',
    bytes: head('HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload') + ok('Content-Length: 5') + 'hello',
    notes: 'the 103 is not relayed',
  },
  { name: 'two 1xx, then 200', bytes: head('HTTP/1.1 100 Continue') + head('HTTP/1.1 102 Processing') + ok('Content-Length: 5') + 'hello', notes: 'valid' },
  {
    name: '101 not asked for',
    bytes: head('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: upgrade') + 'hello',
    notes: 'no Upgrade was sent: a protocol error',
  },
  { name: '100 then close', bytes: head('HTTP/1.1 100 Continue'), notes: 'no final answer' },

  // ── answers that have no body ───────────────────────────────────────────────────────────────
  {
    name: '204 with Content-Length and a body',
    bytes: head('HTTP/1.1 204 No Content', 'Content-Length: 5') + 'hello',
    notes: 'RFC 9110 §8.6: never a Content-Length in a 204; are the 5 bytes meant? 502',
  },
  { name: '204 with Content-Length: 0', bytes: head('HTTP/1.1 204 No Content', 'Content-Length: 0'), notes: 'common in practice, no body either way: relayed' },
  {
    name: '204 with chunked and a body',
    bytes: head('HTTP/1.1 204 No Content', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n',
    notes: 'a 204 has no body: none is relayed, the connection is not reused',
  },
  {
    name: '304 with Content-Length, no body',
    bytes: head('HTTP/1.1 304 Not Modified', 'Content-Length: 5'),
    notes: "valid: the length is the representation's",
  },
  { name: '304 with a body', bytes: head('HTTP/1.1 304 Not Modified', 'Content-Length: 5') + 'hello', notes: 'the body is not relayed' },
  { name: 'HEAD: Content-Length, no body', method: 'HEAD', bytes: ok('Content-Length: 5'), notes: 'valid' },
  { name: 'HEAD: Content-Length and a body', method: 'HEAD', bytes: ok('Content-Length: 5') + 'hello', notes: 'the body is not relayed' },
  { name: 'HEAD: chunked, no body', method: 'HEAD', bytes: ok('Transfer-Encoding: chunked'), notes: 'valid' },

  // ── oversized heads (limits.upstream_header_bytes 16384, upstream_header_count 100) ─────────
  { name: 'one 17 KiB header line', bytes: ok('Content-Length: 5', `X-Big: ${'b'.repeat(17 * 1024)}`) + 'hello', notes: 'over both limits' },
  {
    name: 'head of 64 KiB',
    bytes: ok('Content-Length: 5', ...Array.from({ length: 64 }, (_, k) => `X-${k}: ${'b'.repeat(1000)}`)) + 'hello',
    notes: 'the old fixed limit',
  },
  {
    name: '150 header lines',
    bytes: ok('Content-Length: 5', ...Array.from({ length: 149 }, (_, k) => `X-${k}: v`)) + 'hello',
    notes: 'undici has no count limit; sluice refuses past 100',
  },
  {
    name: 'head of exactly 16384 bytes',
    bytes: ok('Content-Length: 5', `X-Big: ${'b'.repeat(16337)}`) + 'hello',
    notes: 'the byte limit passes, and the front door writes a head that large downstream',
  },
  {
    name: '100 header lines',
    bytes: ok('Content-Length: 5', ...Array.from({ length: 99 }, (_, k) => `X-${k}: v`)) + 'hello',
    notes: 'the count limit: passes',
  },
];
