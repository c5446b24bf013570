/**
 * JSON values written straight into a byte buffer at an offset, each returning the offset after it.
 * The access log builds one line per request this way: no intermediate strings to concatenate,
 * flatten and encode, and nothing left for the garbage collector.
 *
 * The caller makes room first: a string takes at most 6 bytes per UTF-16 unit (`\u001f`) plus its
 * quotes, a number at most 24 bytes.
 */

/** Bytes `putString` may take for `s`, quotes included (6 per unit covers escapes and UTF-8 alike). */
export function stringBound(s: string | null): number {
  return s === null ? 4 : 6 * s.length + 2;
}

/** A string known to be printable ASCII with nothing to escape (a key, a fixed fragment). */
export function putAscii(b: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i);
  return at;
}

/** A JSON string literal. Plain ASCII is copied byte by byte; the rest goes through JSON.stringify. */
export function putString(b: Buffer, at: number, s: string): number {
  b[at++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      // The rest, escaped (a lone surrogate as \udXXX, so the UTF-8 stays valid), closing quote included.
      return at + (b as Buffer & Utf8Write).utf8Write(JSON.stringify(s.slice(i)).slice(1), at);
    }
    b[at++] = c;
  }
  b[at++] = 0x22;
  return at;
}

export function putNullable(b: Buffer, at: number, s: string | null): number {
  return s === null ? putAscii(b, at, 'null') : putString(b, at, s);
}

/** A non-negative integer's decimal digits (anything else as JSON.stringify has it). */
export function putInt(b: Uint8Array, at: number, n: number): number {
  if (!(n >= 0 && Number.isSafeInteger(n))) return putAscii(b, at, JSON.stringify(n));
  let end = at + 1;
  for (let p = 10; p <= n; p *= 10) end++;
  for (let i = end - 1; i >= at; i--) {
    const q = Math.floor(n / 10);
    b[i] = 0x30 + n - 10 * q;
    n = q;
  }
  return end;
}

/**
 * Milliseconds rounded to the microsecond ("12", "0.593", "0.05"): integer digits, not the double's
 * own toString, which runs a shortest-digits conversion.
 */
export function putMillis(b: Uint8Array, at: number, ms: number): number {
  const us = Math.round(ms * 1000);
  if (!(us >= 0)) return putInt(b, at, 0);
  const whole = Math.floor(us / 1000);
  const frac = us - 1000 * whole;
  at = putInt(b, at, whole);
  if (frac === 0) return at;
  b[at++] = 0x2e;
  b[at++] = 0x30 + Math.floor(frac / 100);
  const rest = frac % 100;
  if (rest === 0) return at;
  b[at++] = 0x30 + Math.floor(rest / 10);
  if (rest % 10 !== 0) b[at++] = 0x30 + (rest % 10);
  return at;
}

/** A Buffer method Node has and its types do not declare: no encoding argument to parse per call. */
interface Utf8Write {
  utf8Write(s: string, offset: number): number;
}
