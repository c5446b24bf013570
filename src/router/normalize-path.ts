import { DEFAULT_PATH_POLICY, type PathPolicy } from './path-policy.js';

/**
 * The one path normalisation sluice applies, before routing, to every request. The result is both
 * what routes match against and what is forwarded upstream, so a path cannot mean one thing to
 * the router and another to the upstream (/api/../admin, /api/%2e%2e/admin, //admin, and what an
 * upstream that decodes more than RFC 3986 says would make of /api/..%2Fadmin or /api/..;/admin).
 *
 *  1. The path must start with "/" and contain only RFC 3986 path characters; raw bytes ≥ 0x80,
 *     controls, space, "#" → rejected; a raw backslash follows limits.path.backslash.
 *  2. Percent-encodings must be two hex digits. Encoded unreserved characters (A-Z a-z 0-9 - . _ ~)
 *     are decoded; encoded controls (%00-%1F, %7F) are rejected; %2F and %5C follow
 *     limits.path (path-policy.ts); every other encoding is kept, with upper-case hex. Encoded bytes
 *     ≥ %80 must form well-formed UTF-8 (no overlongs such as %C0%AE, no surrogates, nothing above
 *     U+10FFFF, no truncated sequence): lenient decoders read %C0%AE as "." and %C0%AF as "/".
 *  3. Runs of "/" collapse to one.
 *  4. "." segments are removed, ".." removes the segment before it; climbing above the root is
 *     rejected rather than clamped (it is never what a legitimate client sends). A dot-segment
 *     followed by a ";" parameter follows limits.path.path_params.
 * Returns null when the path must be rejected (400 SLUICE_ERR_BAD_PATH); pathRejection() then says
 * which rule refused it.
 */
export function normalizePath(raw: string, policy: PathPolicy = DEFAULT_PATH_POLICY): string | null {
  if (raw.length === 0 || raw.charCodeAt(0) !== 0x2f) return reject('the path must start with "/"');
  // Hot path: most paths need no work, and this allocates nothing.
  if (isAlreadyNormal(raw, policy.pathParams === 'reject' ? PATH_CHAR_NO_PARAMS : PATH_CHAR)) return raw;
  return normalizeSlow(raw, policy);
}

/** Why the last normalizePath call returned null: a constant string, for the error's detail. */
export function pathRejection(): string {
  return rejection;
}

let rejection = '';

function reject(why: string): null {
  rejection = why;
  return null;
}

function rejectUnit(why: string): number {
  rejection = why;
  return REJECTED;
}

// 1 = allowed as-is in a path (pchar or "/"), except "%" and "." which need the slow path's attention.
const PATH_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~!$&'()*+,;=:@/") {
  PATH_CHAR[c.charCodeAt(0)] = 1;
}
// path_params: reject sends every ";" to the slow path, which refuses it.
const PATH_CHAR_NO_PARAMS = PATH_CHAR.slice();
PATH_CHAR_NO_PARAMS[0x3b] = 0;

function isAlreadyNormal(p: string, table: Uint8Array): boolean {
  let prev = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (prev === 0x2f) return false; // a segment starting with "." might be a dot segment
    } else if (c >= 128 || table[c] === 0) {
      return false;
    } else if (c === 0x2f && prev === 0x2f) {
      return false;
    }
    prev = c;
  }
  return true;
}

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const HEX = '0123456789ABCDEF';

// What the slow path does with one position of the raw path.
const SEPARATOR = 0;
const APPEND = 1;
const REJECTED = 2;

// The unit read at the current position (set by readUnit): its width in raw characters, the text
// appended to the segment for APPEND, and whether that text is a kept %2F or %5C.
let unitWidth = 1;
let unitText = '';
let unitKeptSeparator = false;

function normalizeSlow(raw: string, policy: PathPolicy): string | null {
  const segments: string[] = [];
  let seg = '';
  let keptSeparator = false; // seg holds a kept %2F or %5C
  let endsWithSlash = false;
  utf8Reset();
  for (let i = 1; i <= raw.length; i += unitWidth) {
    const kind = i === raw.length ? SEPARATOR : readUnit(raw, i, policy);
    if (kind === REJECTED) return null;
    if (kind === APPEND) {
      seg += unitText;
      if (unitKeptSeparator) {
        if (seg === unitText && segments.length === 0) return reject('an encoded separator may not start the path (limits.path)');
        keptSeparator = true;
      }
      continue;
    }
    if (utf8Pending()) return reject('truncated UTF-8 sequence');
    endsWithSlash = i !== raw.length;
    if (seg === '..') {
      if (segments.length === 0) return reject('the path climbs above the root');
      segments.pop();
      endsWithSlash = true;
    } else if (seg === '.') {
      endsWithSlash = true;
    } else if (seg !== '') {
      if (isDotParam(seg, 0)) return reject('a dot-segment with a ";" parameter (limits.path.path_params)');
      if (keptSeparator && hidesDotSegment(seg)) return reject('a dot-segment between encoded separators (limits.path)');
      segments.push(seg);
    } else if (i === raw.length) {
      endsWithSlash = raw.length > 1 || segments.length === 0;
    }
    seg = '';
    keptSeparator = false;
  }
  const body = segments.join('/');
  if (body === '') return '/';
  return '/' + body + (endsWithSlash ? '/' : '');
}

/** Classify the unit at raw[i] (a character or a %XX), setting unitWidth/unitText/unitKeptSeparator. */
function readUnit(raw: string, i: number, policy: PathPolicy): number {
  unitWidth = 1;
  unitKeptSeparator = false;
  const c = raw.charCodeAt(i);
  if (c === 0x25 /* % */) return readEncoded(raw, i, policy);
  if (utf8Pending()) return rejectUnit('truncated UTF-8 sequence');
  if (c === 0x2f) return SEPARATOR;
  if (c === 0x5c /* \ */) return separatorPolicy(policy.backslash, '%5C', 'a backslash (limits.path.backslash)');
  if (c === 0x3b /* ; */ && policy.pathParams === 'reject') return rejectUnit('a ";" path parameter (limits.path.path_params)');
  if (c < 128 && (PATH_CHAR[c] === 1 || c === 0x2e)) {
    unitText = raw[i];
    return APPEND;
  }
  return rejectUnit('a character not allowed in a path');
}

function readEncoded(raw: string, i: number, policy: PathPolicy): number {
  const hi = hexValue(raw.charCodeAt(i + 1));
  const lo = hexValue(raw.charCodeAt(i + 2));
  if (hi < 0 || lo < 0) return rejectUnit('a "%" not followed by two hex digits');
  unitWidth = 3;
  const decoded = hi * 16 + lo;
  if (decoded >= 0x80) {
    const why = utf8Step(decoded);
    if (why !== '') return rejectUnit(why);
    unitText = '%' + HEX[hi] + HEX[lo];
    return APPEND;
  }
  if (utf8Pending()) return rejectUnit('truncated UTF-8 sequence');
  if (decoded < 0x20 || decoded === 0x7f) return rejectUnit('an encoded control byte');
  if (decoded === 0x2f) return separatorPolicy(policy.escapedSlashes, '%2F', 'an encoded slash %2F (limits.path.escaped_slashes)');
  if (decoded === 0x5c) return separatorPolicy(policy.backslash, '%5C', 'an encoded backslash %5C (limits.path.backslash)');
  if (decoded === 0x3b && policy.pathParams === 'reject') return rejectUnit('an encoded ";" path parameter (limits.path.path_params)');
  unitText = isUnreserved(decoded) ? String.fromCharCode(decoded) : '%' + HEX[hi] + HEX[lo];
  return APPEND;
}

function separatorPolicy(p: PathPolicy['escapedSlashes'], kept: string, why: string): number {
  if (p === 'decode') return SEPARATOR;
  if (p === 'reject') return rejectUnit(why);
  unitText = kept;
  unitKeptSeparator = true;
  return APPEND;
}

/** seg[from..] is "." or ".." followed by ";" or %3B (Tomcat and Jetty drop the parameter, then climb). */
function isDotParam(seg: string, from: number): boolean {
  let j = from;
  if (seg.charCodeAt(j) !== 0x2e) return false;
  j++;
  if (seg.charCodeAt(j) === 0x2e) j++;
  return seg.charCodeAt(j) === 0x3b || seg.startsWith('%3B', j);
}

/**
 * With a kept %2F or %5C, the pieces an upstream that decodes them would see: none may be a
 * dot-segment (nor one with a ";" parameter), or /public/..%2Fadmin would resolve to /admin there.
 */
function hidesDotSegment(seg: string): boolean {
  let start = 0;
  while (start <= seg.length) {
    let end = seg.indexOf('%', start);
    while (end !== -1 && !seg.startsWith('%2F', end) && !seg.startsWith('%5C', end)) end = seg.indexOf('%', end + 1);
    if (end === -1) end = seg.length;
    const len = end - start;
    if (seg.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && seg.charCodeAt(start + 1) === 0x2e))) return true;
    if (isDotParam(seg, start)) return true;
    start = end + 3;
  }
  return false;
}

// UTF-8 well-formedness over consecutive %XX bytes (Unicode Table 3-7): how many continuation
// bytes are still due and the range the next one must fall in.
let utf8Need = 0;
let utf8Low = 0x80;
let utf8High = 0xbf;
/** Why a continuation byte outside [utf8Low, utf8High] (but within 80..BF) is refused, by lead byte. */
let utf8OutOfRange = '';

function utf8Reset(): void {
  utf8Need = 0;
}

function utf8Pending(): boolean {
  return utf8Need > 0;
}

/** Feed one decoded byte ≥ 0x80; returns '' or why the sequence is refused. */
function utf8Step(b: number): string {
  if (utf8Need > 0) {
    if (b > 0xbf) return 'truncated UTF-8 sequence';
    if (b < utf8Low || b > utf8High) return utf8OutOfRange;
    utf8Need--;
    utf8Low = 0x80;
    utf8High = 0xbf;
    return '';
  }
  if (b < 0xc0) return 'a UTF-8 continuation byte without a lead byte';
  if (b < 0xc2) return 'an overlong UTF-8 encoding';
  if (b > 0xf4) return b < 0xf8 ? 'UTF-8 above U+10FFFF' : 'a byte that is never valid in UTF-8';
  utf8Need = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
  utf8Low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  utf8High = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  utf8OutOfRange = b === 0xed ? 'a UTF-8 encoded surrogate' : b === 0xf4 ? 'UTF-8 above U+10FFFF' : 'an overlong UTF-8 encoding';
  return '';
}
