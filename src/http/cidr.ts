/**
 * IP address ranges (CIDR), compiled once into plain data and matched without allocating: what
 * trusted_proxies and the `ip:` policy are made of. IPv4-mapped IPv6 (::ffff:a.b.c.d) is an IPv4
 * address here, on both sides: a range `::ffff:10.0.0.0/104` is `10.0.0.0/8`, and a peer that uWS
 * reports as ::ffff:10.1.2.3 matches `10.0.0.0/8`.
 */

import { hexDigit } from './hex.js';

/** A compiled list of ranges: structured-clonable, so it can cross postMessage inside a plan. */
export interface CidrSet {
  /** IPv4 ranges as [first, last, first, last, ...] (unsigned 32-bit), sorted and merged. */
  readonly v4: readonly number[];
  /** IPv6 prefixes as [w0, w1, w2, w3, bits, ...]: four 32-bit words, masked, and the prefix length. */
  readonly v6: readonly number[];
}

export const EMPTY_CIDRS: CidrSet = { v4: [], v6: [] };

// The last parsed address: parseAddress writes here instead of returning a new object.
let v4 = 0;
const v6 = new Uint32Array(4);

/** Parse one address from text[start, end). Returns 4, 6, or 0 when it is not a plain IP address. */
export function parseAddress(text: string, start = 0, end = text.length): 0 | 4 | 6 {
  if (end - start >= 2 && text.charCodeAt(start) === 0x5b && text.charCodeAt(end - 1) === 0x5d) {
    start++; // [v6], as RFC 7239 writes it
    end--;
  }
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 0x3a) return parseV6(text, start, end);
  return parseV4(text, start, end) ? 4 : 0;
}

/** Dotted quad, no leading zeros (01 is octal to some parsers: refuse the ambiguity). */
function parseV4(text: string, start: number, end: number): boolean {
  let value = 0;
  let parts = 0;
  let i = start;
  while (parts < 4) {
    let n = 0;
    const from = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      i++;
    }
    const digits = i - from;
    if (digits === 0 || digits > 3 || n > 255 || (digits > 1 && text.charCodeAt(from) === 0x30)) return false;
    value = value * 256 + n;
    parts++;
    if (parts < 4) {
      if (i >= end || text.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
  }
  if (i !== end) return false;
  v4 = value;
  return true;
}

const groups = new Uint16Array(8);

/** RFC 4291 text: hex groups, one "::", an optional dotted-quad tail. No zone ids. */
function parseV6(text: string, start: number, end: number): 0 | 4 | 6 {
  let count = 0;
  let gap = -1;
  let i = start;
  if (end - start >= 2 && text.charCodeAt(i) === 0x3a && text.charCodeAt(i + 1) === 0x3a) {
    gap = 0;
    i += 2;
  } else if (text.charCodeAt(i) === 0x3a) return 0;
  while (i < end) {
    if (count === 8) return 0;
    // A dotted tail fills the last two groups.
    let dot = false;
    for (let k = i; k < end; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x2e) dot = true;
      if (c === 0x3a) break;
    }
    if (dot) {
      if (count > 6 || !parseV4(text, i, end)) return 0;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    let n = 0;
    const from = i;
    while (i < end) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      n = n * 16 + d;
      i++;
    }
    if (i - from === 0 || i - from > 4) return 0;
    groups[count++] = n;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return 0;
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (gap !== -1) return 0;
      gap = count;
      i++;
    } else if (i === end) return 0;
  }
  if (gap === -1 ? count !== 8 : count > 7) return 0;
  if (gap !== -1) {
    const move = count - gap;
    for (let k = 0; k < move; k++) groups[7 - k] = groups[count - 1 - k];
    for (let k = gap; k < 8 - move; k++) groups[k] = 0;
  }
  for (let k = 0; k < 4; k++) v6[k] = ((groups[2 * k] << 16) | groups[2 * k + 1]) >>> 0;
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) {
    v4 = v6[3];
    return 4;
  }
  return 6;
}

/** Does the set hold the address in text[start, end)? False for text that is not an address. */
export function cidrContains(set: CidrSet, text: string, start = 0, end = text.length): boolean {
  const family = parseAddress(text, start, end);
  if (family === 4) return containsV4(set.v4, v4);
  if (family === 6) return containsV6(set.v6);
  return false;
}

/** Does the set hold the address parseAddress last read (of the family it returned)? */
export function containsLast(set: CidrSet, family: 4 | 6): boolean {
  return family === 4 ? containsV4(set.v4, v4) : containsV6(set.v6);
}

function containsV4(ranges: readonly number[], a: number): boolean {
  // Binary search over [first, last] pairs.
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a < ranges[2 * mid]) hi = mid - 1;
    else if (a > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

function containsV6(prefixes: readonly number[]): boolean {
  for (let p = 0; p < prefixes.length; p += 5) {
    let bits = prefixes[p + 4];
    let k = 0;
    for (; k < 4 && bits > 0; k++, bits -= 32) {
      const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
      if ((v6[k] & mask) >>> 0 !== prefixes[p + k]) break;
    }
    if (bits <= 0) return true;
  }
  return false;
}

/** The address parseAddress last read, in canonical text (RFC 5952 for IPv6, dotted for IPv4 and mapped). */
export function lastAddressText(family: 4 | 6): string {
  if (family === 4) return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  for (let k = 0; k < 4; k++) {
    groups[2 * k] = v6[k] >>> 16;
    groups[2 * k + 1] = v6[k] & 0xffff;
  }
  // The longest run of two or more zero groups becomes "::" (the first, on a tie).
  let bestAt = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && groups[e] === 0) e++;
    if (e - k > bestLen) {
      bestAt = k;
      bestLen = e - k;
    }
    k = e;
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestAt) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += groups[k].toString(16);
  }
  return out;
}

/**
 * Compile CIDR texts ("10.0.0.0/8", "2001:db8::/32", or a single address) once, in the primary.
 * Returns the set, or for the first bad entry its index and what is wrong.
 */
export function compileCidrs(list: readonly string[]): CidrSet | { index: number; message: string } {
  const ranges: [number, number][] = [];
  const v6out: number[] = [];
  for (let index = 0; index < list.length; index++) {
    const text = list[index];
    const slash = text.indexOf('/');
    const family = parseAddress(text, 0, slash === -1 ? text.length : slash);
    if (family === 0) return { index, message: `"${text}" is not an IPv4 or IPv6 address or CIDR range` };
    // A mapped IPv6 range is an IPv4 range 96 bits shorter.
    const mapped = family === 4 && text.includes(':');
    const max = family === 4 && !mapped ? 32 : 128;
    let bits = max;
    if (slash !== -1) {
      const b = text.slice(slash + 1);
      if (!/^(0|[1-9][0-9]{0,2})$/.test(b) || Number(b) > max) return { index, message: `"${text}": the prefix length must be 0 to ${max}` };
      bits = Number(b);
    }
    if (family === 4) {
      if (mapped) {
        if (bits < 96) return { index, message: `"${text}": an IPv4-mapped range needs a prefix of at least 96 bits` };
        bits -= 96;
      }
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const first = (v4 & mask) >>> 0;
      if (first !== v4) return { index, message: `"${text}" has host bits set beyond /${bits}` };
      ranges.push([first, (first | (~mask >>> 0)) >>> 0]);
    } else {
      let left = bits;
      const words = [0, 0, 0, 0];
      for (let k = 0; k < 4; k++, left -= 32) {
        const mask = left >= 32 ? 0xffffffff : left <= 0 ? 0 : (0xffffffff << (32 - left)) >>> 0;
        words[k] = (v6[k] & mask) >>> 0;
        if (words[k] !== v6[k]) return { index, message: `"${text}" has host bits set beyond /${bits}` };
      }
      v6out.push(...words, bits);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: number[] = [];
  for (const [first, last] of ranges) {
    const n = merged.length;
    if (n > 0 && first <= merged[n - 1] + 1) merged[n - 1] = Math.max(merged[n - 1], last);
    else merged.push(first, last);
  }
  return { v4: merged, v6: v6out };
}
