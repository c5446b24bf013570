/**
 * HTTP head text written straight into byte buffers, for the heads sluice builds per request (the
 * upstream request head, the downstream response head): no strings concatenated, flattened and
 * encoded on the way, and byte loops rather than native copies for pieces of tens of bytes, where a
 * call into C++ costs more than the copy. Each function returns the offset after what it wrote; the
 * caller has made room (`textBound`).
 */

/** Bytes `putText` may take: UTF-8 needs at most 3 bytes per UTF-16 unit. */
export function textBound(s: string): number {
  return 3 * s.length;
}

/** `s` as UTF-8: ASCII byte by byte, from the first other character on natively. */
export function putText(b: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + b.write(s.slice(i), at, 'utf8');
    b[at++] = c;
  }
  return at;
}

/** src[from, to) copied to b[at...]. */
export function putBytes(b: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) b[at++] = src[i];
  return at;
}

export function putCrlf(b: Uint8Array, at: number): number {
  b[at] = 0x0d;
  b[at + 1] = 0x0a;
  return at + 2;
}
