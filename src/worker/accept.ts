import type { HttpRequest } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/catalog.js';
import { isToken } from '../http/token.js';
import { normalizePath, pathRejection } from '../router/normalize-path.js';
import type { PathPolicy } from '../router/path-policy.js';

/**
 * Copy the request head out of uWS (the HttpRequest dies when the handler returns) and enforce
 * the framing rules uWS does not (see shared notes "uws-facts"): exactly one non-empty Host; at
 * most one Content-Length, digits only; Transfer-Encoding only as exactly "chunked" and never with
 * Content-Length; no control bytes in names or values; the whole head within max_header_bytes and
 * at most max_header_count fields.
 *
 * The head's size is counted as the bytes of the head written in its usual form: the request line
 * `METHOD SP target SP HTTP/1.1 CRLF`, each field as `name: value CRLF`, and the final CRLF, in UTF-8.
 * That is the head as sent by every client that writes one space after the colon (curl, browsers,
 * HTTP libraries). uWS strips whitespace around values before JS sees them, so extra padding is not
 * counted; uWS's own cap on the head (about 125 KiB on 20.30) bounds it.
 */
export interface AcceptedHead {
  method: string;
  rawUrl: string;
  path: string;
  query: string;
  host: string;
  /** Flat [name, value, ...] with lower-case names. */
  rawHeaders: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
}

/**
 * Why a head was refused. `closes`: the refusal ends the connection's use (its framing cannot be
 * trusted, or the client would only send another head past a limit): answered, then closed.
 */
export interface Refusal {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly closes: boolean;
}

// forEach's callback is a module-level function writing into module-level scratch state, so
// copying headers creates no closure per request. Safe: forEach runs synchronously.
let scratch: string[] = [];
let hostCount = 0,
  clCount = 0,
  teCount = 0,
  headBytes = 0,
  badHeader = '';
let host = '',
  cl = '',
  te = '';

function copyHeader(name: string, value: string): void {
  scratch.push(name, value);
  const valueBytes = fieldValueBytes(value);
  // `name: value CRLF`; a name that is not a token is refused below, so its length is its byte count.
  headBytes += name.length + (valueBytes < 0 ? value.length : valueBytes) + 4;
  if (badHeader === '' && (valueBytes < 0 || !isToken(name))) badHeader = name;
  switch (name) {
    case 'host':
      hostCount++;
      host = value;
      break;
    case 'content-length':
      clCount++;
      cl = value;
      break;
    case 'transfer-encoding':
      teCount++;
      te = value;
      break;
  }
}

/** The limits acceptHead enforces (the plan's `limits`). */
export interface HeadLimits {
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly path: PathPolicy;
}

export function acceptHead(req: HttpRequest, limits: HeadLimits, out: AcceptedHead): Refusal | null {
  scratch = [];
  hostCount = 0;
  clCount = 0;
  teCount = 0;
  headBytes = 0;
  badHeader = '';
  host = '';
  cl = '';
  te = '';
  req.forEach(copyHeader);
  out.rawHeaders = scratch;
  out.method = req.getCaseSensitiveMethod();
  out.rawUrl = req.getUrl();
  const query = req.getQuery();
  out.query = query ?? '';
  // `METHOD SP path[?query] SP HTTP/1.1 CRLF` (uWS takes no other version), then the final CRLF.
  headBytes += out.method.length + utf8Bytes(out.rawUrl) + (query === undefined ? 0 : 1 + utf8Bytes(query)) + 12 + 2;

  // Past either limit the head ends the connection's use: 431, then close (the framing is sound, but
  // a client that sent one oversized head sends the next one alike; nginx closes too).
  if (headBytes > limits.maxHeaderBytes) return { code: 'SLUICE_ERR_HEADERS_TOO_LARGE', detail: `${headBytes} bytes`, closes: true };
  if (scratch.length > 2 * limits.maxHeaderCount) {
    return { code: 'SLUICE_ERR_TOO_MANY_HEADERS', detail: `${scratch.length >> 1} fields`, closes: true };
  }
  if (!isToken(out.method)) return refuse('invalid method');
  if (badHeader !== '') return refuse(`invalid header ${JSON.stringify(badHeader.slice(0, 64))}`);
  if (hostCount !== 1 || host === '') return refuse('exactly one non-empty Host header is required');
  if (!isHost(host)) return refuse('Host must be a host name or address, with an optional :port');
  if (clCount > 1) return refuse('more than one Content-Length');
  if (teCount > 1) return refuse('more than one Transfer-Encoding');
  if (clCount === 1 && teCount === 1) return refuse('both Content-Length and Transfer-Encoding');
  out.contentLength = -1;
  out.chunked = false;
  if (clCount === 1) {
    if (!isContentLength(cl)) return refuse('Content-Length must be 1 to 15 digits');
    out.contentLength = Number(cl);
  }
  if (teCount === 1) {
    if (te.length !== 7 || te.toLowerCase() !== 'chunked') return refuse('Transfer-Encoding other than "chunked"');
    out.chunked = true;
  }
  out.host = host.toLowerCase();
  if (out.method === 'CONNECT') return keepIfFramed('SLUICE_ERR_BAD_REQUEST', 'CONNECT is not supported by a reverse proxy', out);
  const path = normalizePath(out.rawUrl, limits.path);
  if (path === null) return keepIfFramed('SLUICE_ERR_BAD_PATH', pathRejection(), out);
  if (!isQuery(out.query)) return keepIfFramed('SLUICE_ERR_BAD_PATH', 'a space or control byte in the query', out);
  out.path = path;
  return null;
}

/**
 * A refusal that leaves the framing sound keeps the connection, except after a chunked body: uWS's
 * own chunk parser would frame the next request (docs/security.md "Why chunked request bodies are off
 * by default"), and nothing but the 411 path may read one when chunked requests are not allowed.
 */
function keepIfFramed(code: ErrorCode, detail: string, out: AcceptedHead): Refusal {
  return { code, detail, closes: out.chunked };
}

function refuse(detail: string): Refusal {
  return { code: 'SLUICE_ERR_BAD_REQUEST', detail, closes: true };
}

/**
 * A field value's length in UTF-8 bytes, or -1 when it holds a control byte. uWS decodes header bytes
 * as UTF-8, and the upstream head is written back as UTF-8 (never latin1, which would turn U+010D
 * U+010A into CR LF), so only real controls can break a line. One pass does both: it runs per field.
 */
function fieldValueBytes(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return -1;
    } else bytes += c < 0x800 ? 1 : 2;
  }
  return bytes;
}

/**
 * A string's length in UTF-8 bytes, as uWS decoded it: each UTF-16 unit of U+0080–U+07FF is 2 bytes,
 * any other above is 3 (a surrogate pair, 2 units, is the 4 bytes it came from). A byte uWS could not
 * decode became U+FFFD and counts 3: over, never under.
 */
function utf8Bytes(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) bytes += c < 0x800 ? 1 : 2;
  }
  return bytes;
}

// RFC 3986 reg-name characters (unreserved, pct-encoded, sub-delims), plus ":" before a port and the
// brackets of an IPv6 literal: enough to keep "/", "@", spaces and quotes out of a name that routes
// match on, logs print and the upstream receives.
const HOST_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:[]") HOST_CHAR[c.charCodeAt(0)] = 1;

function isHost(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST_CHAR[c] === 0) return false;
  }
  return true;
}

/** The query is forwarded as received: no space, control byte or DEL (they would end the request line). */
function isQuery(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

function isContentLength(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
