import { HOP_BY_HOP_NAMES } from './hop-by-hop.js';

/**
 * Which upstream response headers go downstream, decided on the raw header bytes: names are
 * compared byte by byte, ignoring case, and kept as the upstream's Buffers, which uWS writes as they
 * are. No header object and no string per header on the way through.
 */

/** What the proxy does with an upstream response header, by name: */
export const PASS = 0;
/** hop-by-hop (RFC 9110 §7.6.1), or written by sluice or uWS itself (Date, framing, X-Request-Id); */
export const DROP = 1;
/** dropped, its value read: framing and the HEAD answer's length; */
export const CONTENT_LENGTH = 2;
/** dropped, its tokens name more headers to drop; */
export const CONNECTION = 3;
/** dropped, its value extended with sluice's hop. */
export const VIA = 4;

const KIND = new Map<string, number>(HOP_BY_HOP_NAMES.map((n) => [n, DROP]));
KIND.set('connection', CONNECTION).set('content-length', CONTENT_LENGTH).set('via', VIA).set('date', DROP).set('x-request-id', DROP);

/** Candidates by name length: most names match no length here and pass without a byte compare. */
const BY_LENGTH: Array<Array<readonly [Uint8Array, number]>> = [];
for (const [name, kind] of KIND) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), kind]);

export function classify(name: Uint8Array): number {
  const candidates = BY_LENGTH[name.length];
  if (candidates === undefined) return PASS;
  for (const [lower, kind] of candidates) if (equalsLower(name, lower)) return kind;
  return PASS;
}

/**
 * `name` equals the lower-case ASCII `lower`, ignoring case. OR-ing 0x20 folds only letters here:
 * llhttp has rejected names that are not tokens, and no other token byte folds onto a letter, a
 * digit or '-'.
 */
export function equalsLower(name: Uint8Array, lower: Uint8Array | string): boolean {
  if (name.length !== lower.length) return false;
  if (typeof lower === 'string') {
    for (let i = 0; i < name.length; i++) if ((name[i] | 0x20) !== lower.charCodeAt(i)) return false;
  } else {
    for (let i = 0; i < name.length; i++) if ((name[i] | 0x20) !== lower[i]) return false;
  }
  return true;
}

/** A Content-Length value (llhttp has checked its digits), or -1. */
export function parseLength(value: Uint8Array): number {
  if (value.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
