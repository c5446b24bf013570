import { putCrlf, putText, textBound } from '../../http/head-bytes.js';
import type { UpstreamTry } from './upstream-try.js';

/**
 * A try's request head as the bytes sent upstream, written into a shared slab: per request no string
 * is concatenated, flattened or encoded, and no memory is allocated but the returned view. UTF-8, as
 * uWS decoded the client's bytes: they go out as they came (latin1 would fold U+010A into LF).
 *
 * The slab is only ever written past what earlier heads took, so a head the socket has not sent yet
 * (a slow upstream, a corked pipelined batch) is never overwritten; a full slab is left to the
 * garbage collector once the last write from it is done, and a new one is taken.
 */
const SLAB_BYTES = 64 * 1024;
const HTTP_11 = ' HTTP/1.1\r\n';
const CHUNKED = 'transfer-encoding: chunked\r\n';

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** `chunked`: the body is a stream without a Content-Length, sent chunked. */
export function requestHead(t: UpstreamTry, chunked: boolean): Buffer {
  const h = t.headers;
  let bound = textBound(t.method) + textBound(t.path) + HTTP_11.length + CHUNKED.length + 2;
  for (let i = 0; i < h.length; i++) bound += textBound(h[i]) + 2;
  if (bound > slab.length - used) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bound));
    used = 0;
  }
  const b = slab;
  const start = used;
  let n = putText(b, start, t.method);
  b[n++] = 0x20;
  n = putText(b, putText(b, n, t.path), HTTP_11);
  for (let i = 0; i < h.length; i += 2) {
    n = putText(b, n, h[i]);
    b[n++] = 0x3a;
    b[n++] = 0x20;
    n = putCrlf(b, putText(b, n, h[i + 1]));
  }
  if (chunked) n = putText(b, n, CHUNKED);
  n = putCrlf(b, n);
  used = n;
  return b.subarray(start, n);
}
