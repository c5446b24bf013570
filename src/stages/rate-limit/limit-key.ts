import type { RequestCtx } from '../../pipeline/request-ctx.js';

/**
 * What a limit counts by. `key:` in config is one part or a list of parts (composite):
 *   ip            the client's address (RequestCtx.clientAddress)
 *   header:NAME   a request header (absent → the empty value: all such requests share one budget)
 *   route         the route itself (one budget for everyone)
 *   jwt:CLAIM     a claim of the caller's verified JWT (jwt:sub: the subject), set by auth:
 *   api_key       the id of the caller's API key, set by auth:
 * A request without that principal (no auth: on the route, or the other kind) has the empty value.
 */
export type KeyPart =
  | { readonly kind: 'ip' }
  | { readonly kind: 'route' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'jwt'; readonly claim: string }
  | { readonly kind: 'api_key' };

export function parseKeyPart(text: string): KeyPart | null {
  if (text === 'ip') return { kind: 'ip' };
  if (text === 'route') return { kind: 'route' };
  if (text === 'api_key') return { kind: 'api_key' };
  if (text.startsWith('jwt:') && /^[A-Za-z0-9_:.-]{1,128}$/.test(text.slice(4))) return { kind: 'jwt', claim: text.slice(4) };
  if (text.startsWith('header:') && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(text.slice(7))) {
    return { kind: 'header', name: text.slice(7).toLowerCase() };
  }
  return null;
}

function partValue(ctx: RequestCtx, part: KeyPart): string {
  switch (part.kind) {
    case 'ip':
      return ctx.clientAddress;
    case 'route':
      return '';
    case 'header':
      return ctx.header(part.name) ?? '';
    case 'jwt':
      return ctx.principal?.via === 'jwt' && Object.hasOwn(ctx.principal.claims, part.claim) ? claimText(ctx.principal.claims[part.claim]) : '';
    case 'api_key':
      return ctx.principal?.via === 'api_key' ? ctx.principal.subject : '';
  }
}

/** A claim as key text: strings as they are, anything else as JSON (absent: the empty value). */
function claimText(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
}

/** The request's key for these parts, as one string (parts joined by NUL, which no part can hold). */
export function keyOf(ctx: RequestCtx, parts: readonly KeyPart[]): string {
  if (parts.length === 1) return partValue(ctx, parts[0]);
  let key = partValue(ctx, parts[0]);
  for (let i = 1; i < parts.length; i++) key += '\0' + partValue(ctx, parts[i]);
  return key;
}

/**
 * Two independent 32-bit hashes of (limit seed, key), seeded per gateway start so that nobody outside
 * can pick keys that collide. `hi` and `lo` together form the 64-bit fingerprint stored in the table;
 * `lo` also picks the home slot. Not cryptographic: a fingerprint collision needs 2^64 luck.
 */
export function fingerprint(seed: number, key: string, out: { hi: number; lo: number }): void {
  let h1 = seed ^ 0x9e3779b9;
  let h2 = Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = (Math.imul((h2 << 5) | (h2 >>> 27), 5) + 0xe6546b64 + Math.imul(c, 0xcc9e2d51)) | 0;
  }
  out.hi = mix(h1 ^ key.length);
  out.lo = mix(h2 ^ Math.imul(key.length, 0x27d4eb2d));
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The fingerprint as the table's word: never 0 (0 marks an empty slot). */
export function fingerprintWord(hi: number, lo: number): bigint {
  const fp = (BigInt(hi) << 32n) | BigInt(lo);
  return fp === 0n ? 1n : BigInt.asIntN(64, fp);
}

/** A 32-bit seed for a limit: its route and name, mixed with the per-start secret. */
export function limitSeed(secret: number, route: string, name: string): number {
  const out = { hi: 0, lo: 0 };
  fingerprint(secret, `${route}\0${name}`, out);
  return out.lo;
}
