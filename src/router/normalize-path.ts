/**
 * The one path normalisation sluice applies, before routing, to every request. The result is both
 * what routes match against and what is forwarded upstream, so a path cannot mean one thing to
 * the router and another to the upstream (/api/../admin, /api/%2e%2e/admin, //admin).
 *
 *  1. The path must start with "/" and contain only RFC 3986 path characters; raw bytes ≥ 0x80,
 *     controls, space, backslash, "#" → rejected.
 *  2. Percent-encodings must be two hex digits. Encoded unreserved characters (A-Z a-z 0-9 - . _ ~)
 *     are decoded; encoded controls (%00-%1F, %7F) are rejected; every other encoding is kept, with
 *     upper-case hex (so %2f stays an encoded slash, %2F, and never splits a segment).
 *  3. Runs of "/" collapse to one.
 *  4. "." segments are removed, ".." removes the segment before it; climbing above the root is
 *     rejected rather than clamped (it is never what a legitimate client sends).
 * Returns null when the path must be rejected (400 SLUICE_ERR_BAD_PATH).
 */
export function normalizePath(raw: string): string | null {
  if (raw.length === 0 || raw.charCodeAt(0) !== 0x2f) return null;
  if (isAlreadyNormal(raw)) return raw; // hot path: most paths need no work, and this allocates nothing
  return normalizeSlow(raw);
}

// 1 = allowed as-is in a path (pchar or "/"), except "%" and "." which need the slow path's attention.
const PATH_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~!$&'()*+,;=:@/") {
  PATH_CHAR[c.charCodeAt(0)] = 1;
}

function isAlreadyNormal(p: string): boolean {
  let prev = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (prev === 0x2f) return false; // a segment starting with "." might be a dot segment
    } else if (c >= 128 || PATH_CHAR[c] === 0) {
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

function normalizeSlow(raw: string): string | null {
  const segments: string[] = [];
  let seg = '';
  let endsWithSlash = false;
  for (let i = 1; i <= raw.length; i++) {
    if (i === raw.length || raw.charCodeAt(i) === 0x2f) {
      endsWithSlash = i !== raw.length;
      if (seg === '..') {
        if (segments.length === 0) return null;
        segments.pop();
        endsWithSlash = true;
      } else if (seg === '.') {
        endsWithSlash = true;
      } else if (seg !== '') {
        segments.push(seg);
      } else if (i === raw.length) {
        endsWithSlash = raw.length > 1 || segments.length === 0;
      }
      seg = '';
      continue;
    }
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      const decoded = hi * 16 + lo;
      if (decoded < 0x20 || decoded === 0x7f) return null;
      seg += isUnreserved(decoded) ? String.fromCharCode(decoded) : '%' + HEX[hi] + HEX[lo];
      i += 2;
    } else if (c < 128 && (PATH_CHAR[c] === 1 || c === 0x2e)) {
      seg += raw[i];
    } else {
      return null;
    }
  }
  const body = segments.join('/');
  if (body === '') return '/';
  return '/' + body + (endsWithSlash ? '/' : '');
}
