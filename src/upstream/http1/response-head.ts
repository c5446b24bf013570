import type { HeadLines } from '../../http/head-lines.js';
import { connectionTokens } from '../../http/hop-by-hop.js';
import { TCHAR } from '../../http/token.js';

/**
 * A strict parser for one HTTP/1.1 response head, on the bytes as they came off the socket. Strict
 * because a proxy that is lenient about a response's framing can be made to desynchronise its pooled
 * connection (response splitting): anything RFC 9112 does not allow is refused, never guessed at.
 *
 *   status-line = HTTP-version SP 3DIGIT [ SP reason ] CRLF        (HTTP/1.0 or HTTP/1.1)
 *   field-line  = token ":" OWS value OWS CRLF                     (no obs-fold, no bare CR or LF,
 *                                                                  no control bytes but HTAB)
 *   at most one Content-Length (1-15 digits); Transfer-Encoding only "chunked", never with Content-Length
 *
 * Names and values are handed on as offsets into the socket's bytes (Node gives each read its own
 * memory, so they stay valid): no header object, no string and no Buffer per header.
 */
export interface ParsedHead {
  status: number;
  /** The header lines as sent. */
  lines: HeadLines;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** False for HTTP/1.0 and for Connection: close: the connection ends with this response. */
  keepAlive: boolean;
  /** The upstream's Keep-Alive: timeout hint in milliseconds, or -1. */
  keepAliveHintMs: number;
  /** Lower-case header names listed by any of the Connection fields (hop-by-hop for this answer), or null. */
  connectionNamed: string[] | null;
}

/** Some Connection field of the head being parsed said close (parsing is synchronous). */
let closeSeen = false;

const CR = 0x0d,
  LF = 0x0a,
  SP = 0x20,
  HTAB = 0x09,
  COLON = 0x3a;

const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');

/** Byte by byte: seven compares cost less than a call into Buffer.compare. */
function startsHttp1(buf: Buffer, at: number): boolean {
  for (let k = 0; k < 7; k++) if (buf[at + k] !== HTTP_1[k]) return false;
  return true;
}

/**
 * Parse the head in buf[start, end), where end is just past its final CRLF CRLF, with at most
 * `maxLines` header lines. Fills `out` and returns null, or returns what is wrong with it.
 */
export function parseHead(buf: Buffer, start: number, end: number, out: ParsedHead, maxLines: number): string | null {
  // Status line: "HTTP/1.1 200 OK\r\n".
  if (end - start < 14 || !startsHttp1(buf, start)) return 'not an HTTP/1.x status line';
  const minor = buf[start + 7];
  if ((minor !== 0x31 && minor !== 0x30) || buf[start + 8] !== SP) return 'not an HTTP/1.x status line';
  const d0 = buf[start + 9] - 0x30,
    d1 = buf[start + 10] - 0x30,
    d2 = buf[start + 11] - 0x30;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'invalid status code';
  out.status = d0 * 100 + d1 * 10 + d2;
  let i = start + 12;
  if (buf[i] === SP) {
    // Reason phrase: any visible byte, SP or HTAB.
    for (i++; buf[i] !== CR; i++) if (!fieldByte(buf[i])) return 'invalid byte in the reason phrase';
  }
  if (buf[i] !== CR || buf[i + 1] !== LF) return 'malformed status line';
  i += 2;

  const at: number[] = [];
  out.contentLength = -1;
  out.chunked = false;
  out.keepAlive = minor === 0x31;
  out.keepAliveHintMs = -1;
  out.connectionNamed = null;
  closeSeen = false;
  let transferEncodings = 0;
  const last = end - 2; // the empty line
  const fullAt = maxLines * 4; // `at` holds four offsets per line
  while (i < last) {
    if (at.length === fullAt) return `more than ${maxLines} header lines`;
    const nameStart = i;
    while (TCHAR[buf[i]] === 1) i++;
    if (i === nameStart) return buf[i] === SP || buf[i] === HTAB ? 'obsolete line folding' : 'invalid header name';
    if (buf[i] !== COLON) return 'invalid header name';
    const nameEnd = i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (buf[i] !== CR) {
      if (!fieldByte(buf[i])) return 'invalid byte in a header value';
      i++;
    }
    if (buf[i + 1] !== LF) return 'bare CR in a header';
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    i += 2;
    const problem = noteFramingHeader(buf, nameStart, nameEnd, valueStart, valueEnd, i - 2, out);
    if (problem === TRANSFER_ENCODING) transferEncodings++;
    else if (problem !== null) return problem;
    at.push(nameStart, nameEnd, valueStart, valueEnd);
  }
  out.lines = { buf, at };
  if (closeSeen) out.keepAlive = false;
  if (transferEncodings > 1) return 'more than one Transfer-Encoding';
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (out.chunked && minor === 0x30) return 'Transfer-Encoding in an HTTP/1.0 response';
  if (out.chunked && out.contentLength >= 0) return 'both Content-Length and Transfer-Encoding';
  // RFC 9110 §8.6: never a Content-Length in a 204. Whether the bytes it announces follow is anybody's
  // guess (undici reads none and then fails the length check): refuse rather than pick one. A 304's
  // Content-Length is the representation's, and valid.
  if (out.status === 204 && out.contentLength > 0) return 'a 204 with a non-zero Content-Length';
  return null;
}

/**
 * What is wrong with the start of a head whose end has not come yet, in buf[start, end), of which
 * buf[from, end) is new; or null. Only what would keep the head from ever ending is looked for: bytes
 * that cannot start an HTTP/1.x status line, and a bare LF (a head with LF line endings has no CRLF
 * CRLF), so such an upstream is refused at once rather than at the header timeout. The rest is
 * parseHead's, once the head is whole.
 */
export function incompleteHeadProblem(buf: Buffer, start: number, from: number, end: number): string | null {
  const prefixEnd = Math.min(end, start + 7);
  for (let k = Math.max(from, start); k < prefixEnd; k++) if (buf[k] !== HTTP_1[k - start]) return 'not an HTTP/1.x status line';
  for (let k = buf.indexOf(LF, from); k >= 0 && k < end; k = buf.indexOf(LF, k + 1)) {
    if (k === start || buf[k - 1] !== CR) return 'bare LF in the response head';
  }
  return null;
}

/** Visible bytes, SP, HTAB and obs-text; never CR, LF or other control bytes. */
export function fieldByte(c: number): boolean {
  return c >= SP ? c !== 0x7f : c === HTAB;
}

const TRANSFER_ENCODING = 'transfer-encoding';

/**
 * Content-Length, Transfer-Encoding, Connection and Keep-Alive are read; others pass untouched.
 * buf[vs, ve) is the value without OWS; `lineEnd` is where the line's CR is.
 */
function noteFramingHeader(buf: Buffer, ns: number, ne: number, vs: number, ve: number, lineEnd: number, out: ParsedHead): string | null {
  const length = ne - ns;
  // OWS after a framing value is legal, but parsers disagree on it (undici reads "Content-Length: 5\t"
  // as another length than 5): where the body ends must not depend on which parser reads it.
  if ((length === 14 || length === 17) && ve !== lineEnd && (nameIs(buf, ns, 'content-length') || nameIs(buf, ns, TRANSFER_ENCODING)))
    return 'whitespace after a framing header value';
  if (length === 14 && nameIs(buf, ns, 'content-length')) {
    if (out.contentLength >= 0) return 'more than one Content-Length';
    out.contentLength = digits(buf, vs, ve);
    return out.contentLength < 0 ? 'invalid Content-Length' : null;
  }
  if (length === 17 && nameIs(buf, ns, TRANSFER_ENCODING)) {
    if (ve - vs !== 7 || !nameIs(buf, vs, 'chunked')) return 'Transfer-Encoding other than "chunked"';
    out.chunked = true;
    return TRANSFER_ENCODING;
  }
  if (length === 10 && nameIs(buf, ns, 'connection')) {
    const v = buf.toString('latin1', vs, ve).toLowerCase();
    // close wins over keep-alive, whichever Connection field says which.
    if (hasToken(v, 'close')) closeSeen = true;
    else if (hasToken(v, 'keep-alive')) out.keepAlive = true;
    // Every Connection field counts, not just the last one.
    const named = connectionTokens(v);
    if (named !== null) out.connectionNamed = out.connectionNamed === null ? named : out.connectionNamed.concat(named);
    return null;
  }
  if (length === 10 && nameIs(buf, ns, 'keep-alive')) {
    const seconds = keepAliveTimeout(buf, vs, ve);
    if (seconds >= 0) out.keepAliveHintMs = seconds * 1000;
  }
  return null;
}

/**
 * The `timeout=N` parameter of a Keep-Alive value (`timeout=5, max=100`), 1 to 9 digits, else -1.
 * Read in place: nginx, Apache and Node send the field on every response.
 */
function keepAliveTimeout(buf: Buffer, from: number, to: number): number {
  for (let k = from; k + 8 < to; k++) {
    const before = k === from ? 0x20 : buf[k - 1];
    if ((before !== 0x20 && before !== 0x09 && before !== 0x2c) || !nameIs(buf, k, 'timeout=')) continue;
    let end = k + 8;
    while (end < to && end - (k + 8) < 10 && buf[end] >= 0x30 && buf[end] <= 0x39) end++;
    return end - (k + 8) >= 1 && end - (k + 8) <= 9 ? digits(buf, k + 8, end) : -1;
  }
  return -1;
}

/** buf[at...] equals the lower-case ASCII `lower`, ignoring case (only letters fold under | 0x20 here). */
function nameIs(buf: Buffer, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[at + k] | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** 1 to 15 decimal digits → their value, else -1. */
function digits(buf: Buffer, from: number, to: number): number {
  if (to - from < 1 || to - from > 15) return -1;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function hasToken(list: string, token: string): boolean {
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}
