import { STATUS_CODES } from 'node:http';
import { putBytes, putCrlf, putText, textBound } from '../http/head-bytes.js';
import { classify, equalsLower, PASS, VIA } from '../http/response-headers.js';
import type { ResponseHead } from '../pipeline/phase.js';

/**
 * The response head sluice writes downstream for an upstream answer, assembled as bytes in one reused
 * buffer and handed to uWS in one call:
 *
 *   200 OK␍␊<upstream lines that pass, as received>␍␊<stage headers>␍␊via: …, 1.1 sluice␍␊x-request-id: …
 *
 * uWS's writeStatus writes "HTTP/1.1 ", these bytes and a CRLF, then adds Date and the framing headers
 * itself when the response ends. One call instead of one per header (each a crossing into C++ and a
 * view or string conversion there). Safe to pass lines through as bytes: parseHead refused bare CR,
 * LF, obs-fold and control bytes; stage values and request ids are checked where they are made.
 * `id` is the request id, 1-128 visible ASCII characters (worker/uws-downstream.ts, request-id.ts).
 *
 * Hot path: no strings, no objects; the returned view stays valid until the next call.
 */
const OWN_HOP = Buffer.from('1.1 sluice', 'latin1');
const VIA_LINE = Buffer.from('\r\nvia: ', 'latin1');
const ID_LINE = Buffer.from('\r\nx-request-id: ', 'latin1');
/** Room beyond the upstream's lines: status line, Via and X-Request-Id lines, CRLFs. */
const FIXED = 512;

let out = Buffer.allocUnsafe(16 * 1024);
let view = out.subarray(0, 0);

export function downstreamHead(p: ResponseHead, id: string): Uint8Array {
  const { buf, at } = p.upstream;
  const set = p.set;
  // The upstream's head bytes bound its lines and its Via values; UTF-8 of a stage value at most 3 bytes a unit.
  let need = FIXED + id.length + (at.length === 0 ? 0 : 2 * (at[at.length - 1] - at[0]));
  if (set !== null) for (let i = 0; i < set.length; i++) need += textBound(set[i]) + 4;
  if (need > out.length) {
    out = Buffer.allocUnsafe(need);
    view = out.subarray(0, 0);
  }

  const status = statusLine(p.status);
  let n = putBytes(out, 0, status, 0, status.length);
  let runAt = -1;
  let firstVia = -1;
  for (let k = 0; k < at.length; k += 4) {
    const kind = classify(buf, at[k], at[k + 1]);
    if (kind === VIA && firstVia < 0) firstVia = k;
    if (kind === PASS && !replaced(p, buf, at[k], at[k + 1])) {
      if (runAt < 0) runAt = k;
      continue;
    }
    // A run of passing lines is copied whole: the lines between, CRLFs included, as received.
    if (runAt >= 0) {
      n = putBytes(out, putCrlf(out, n), buf, at[runAt], at[k - 1]);
      runAt = -1;
    }
  }
  if (runAt >= 0) n = putBytes(out, putCrlf(out, n), buf, at[runAt], at[at.length - 1]);
  if (set !== null) {
    for (let i = 0; i < set.length; i += 2) {
      n = putText(out, putCrlf(out, n), set[i]);
      out[n++] = 0x3a;
      out[n++] = 0x20;
      n = putText(out, n, set[i + 1]);
    }
  }
  n = putBytes(out, n, VIA_LINE, 0, VIA_LINE.length);
  // The upstream's Via values go before sluice's hop (a second pass only when there is one).
  for (let k = firstVia; k >= 0 && k < at.length; k += 4) {
    if (classify(buf, at[k], at[k + 1]) !== VIA) continue;
    n = putBytes(out, n, buf, at[k + 2], at[k + 3]);
    out[n++] = 0x2c;
    out[n++] = 0x20;
  }
  n = putBytes(out, n, OWN_HOP, 0, OWN_HOP.length);
  n = putBytes(out, n, ID_LINE, 0, ID_LINE.length);
  n = putText(out, n, id);
  if (view.length !== n) view = out.subarray(0, n);
  return view;
}

/** An upstream header named by its Connection header, one a stage sets itself, or one a stage removes. */
function replaced(p: ResponseHead, buf: Buffer, from: number, to: number): boolean {
  const named = p.connectionNamed;
  if (named !== null) for (const name of named) if (equalsLower(buf, from, to, name)) return true;
  const set = p.set;
  if (set !== null) for (let i = 0; i < set.length; i += 2) if (equalsLower(buf, from, to, set[i])) return true;
  const removed = p.remove;
  if (removed !== null) for (const name of removed) if (equalsLower(buf, from, to, name)) return true;
  return false;
}

const STATUS_LINES: Buffer[] = [];
/** "200 OK" as bytes, made once per status. */
export function statusLine(status: number): Buffer {
  return (STATUS_LINES[status] ??= Buffer.from(`${status} ${STATUS_CODES[status] ?? 'Unknown'}`, 'latin1'));
}
