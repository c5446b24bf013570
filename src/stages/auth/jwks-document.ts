import type { JwksKey } from './jwt-verifier.js';
import { jwkToPem } from './key-algorithms.js';

/**
 * The usable public keys of a JWKS document (RFC 7517 §5): RSA, EC and OKP keys not marked for
 * encryption, as PEM. Symmetric ("oct") keys are never taken from a URL. Throws when the document
 * is not a JWKS at all; skips (and counts) keys it cannot use.
 */
export function parseJwks(text: string): { keys: JwksKey[]; skipped: number } {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.keys)) throw new Error('not a JWKS: no "keys" list');
  const keys: JwksKey[] = [];
  let skipped = 0;
  for (const jwk of doc.keys as Record<string, unknown>[]) {
    if (typeof jwk !== 'object' || jwk === null || jwk.use === 'enc') {
      skipped++;
      continue;
    }
    try {
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : '', alg: typeof jwk.alg === 'string' ? jwk.alg : '', pem: jwkToPem(jwk) });
    } catch {
      skipped++;
    }
  }
  return { keys, skipped };
}

/** Cache-Control max-age (or s-maxage) in ms, or null when the header gives none; no-store/no-cache count as 0. */
export function maxAgeMs(cacheControl: string | undefined): number | null {
  if (cacheControl === undefined) return null;
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/i.test(cacheControl)) return 0;
  const m = /(?:^|[\s,])(?:s-maxage|max-age)\s*=\s*"?([0-9]{1,10})/i.exec(cacheControl);
  return m === null ? null : Number(m[1]) * 1000;
}
