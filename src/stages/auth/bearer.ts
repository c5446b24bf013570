/**
 * The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or null when the header is another
 * scheme or the token is not in b64token syntax. The scheme is case-insensitive; one or more spaces
 * may follow it.
 */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined || authorization.length < 8) return null;
  // "bearer" case-insensitively: OR 0x20 lower-cases ASCII letters.
  const a = authorization;
  if (
    (a.charCodeAt(0) | 0x20) !== 0x62 ||
    (a.charCodeAt(1) | 0x20) !== 0x65 ||
    (a.charCodeAt(2) | 0x20) !== 0x61 ||
    (a.charCodeAt(3) | 0x20) !== 0x72 ||
    (a.charCodeAt(4) | 0x20) !== 0x65 ||
    (a.charCodeAt(5) | 0x20) !== 0x72 ||
    a.charCodeAt(6) !== 0x20
  ) {
    return null;
  }
  let start = 7;
  while (start < a.length && a.charCodeAt(start) === 0x20) start++;
  let end = a.length;
  while (end > start && a.charCodeAt(end - 1) === 0x20) end--;
  if (end === start) return null;
  for (let i = start; i < end; i++) if (!isB64TokenChar(a.charCodeAt(i))) return null;
  return a.slice(start, end);
}

/** b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding. */
function isB64TokenChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e ||
    c === 0x2b ||
    c === 0x2f ||
    c === 0x3d
  );
}

/**
 * The request's one Authorization header, undefined when it has none, null when it has more than one:
 * only the first would be checked, and the upstream would see them all.
 */
export function soleAuthorization(raw: readonly string[]): string | undefined | null {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] !== 'authorization') continue;
    if (found !== undefined) return null;
    found = raw[i + 1];
  }
  return found;
}
