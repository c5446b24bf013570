import { HOP_BY_HOP_NAMES } from './hop-by-hop.js';

/**
 * Which upstream response headers go downstream, decided on the raw header bytes (a name is
 * buf[from, to)): names are compared byte by byte, ignoring case, and the lines that pass are written
 * by uWS from the upstream's own bytes. No header object and no string per header on the way through.
 */

/** What the proxy does with an upstream response header, by name: */
export const PASS = 0;
/**
 * hop-by-hop (RFC 9110 §7.6.1; parseHead has read Connection's tokens and the framing), or written by
 * sluice or uWS itself (Date, Content-Length, X-Request-Id);
 */
export const DROP = 1;
/** dropped, its value extended with sluice's hop. */
export const VIA = 2;

const KIND = new Map<string, number>(HOP_BY_HOP_NAMES.map((n) => [n, DROP]));
KIND.set('content-length', DROP).set('via', VIA).set('date', DROP).set('x-request-id', DROP);

/** Candidates by name length: most names match no length here and pass without a byte compare. */
const BY_LENGTH: Array<Array<readonly [Uint8Array, number]>> = [];
for (const [name, kind] of KIND) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), kind]);

export function classify(buf: Uint8Array, from: number, to: number): number {
  const candidates = BY_LENGTH[to - from];
  if (candidates === undefined) return PASS;
  for (const [lower, kind] of candidates) if (equalsLower(buf, from, to, lower)) return kind;
  return PASS;
}

/**
 * The name buf[from, to) equals the lower-case ASCII `lower`, ignoring case. Only A-Z fold: OR-ing 0x20
 * into every byte would also turn '_' and '^' (token bytes) into DEL and '~', so a name such as
 * X_Private named by Connection could never match and would be forwarded.
 */
export function equalsLower(buf: Uint8Array, from: number, to: number, lower: Uint8Array | string): boolean {
  if (to - from !== lower.length) return false;
  if (typeof lower === 'string') {
    for (let i = from; i < to; i++) if (foldAscii(buf[i]) !== lower.charCodeAt(i - from)) return false;
  } else {
    for (let i = from; i < to; i++) if (foldAscii(buf[i]) !== lower[i - from]) return false;
  }
  return true;
}

function foldAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}
