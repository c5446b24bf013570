import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Which algorithms a key can verify, by what the key is (not by what a token claims): an HMAC secret
 * only HS*, an RSA key RS* and PS*, an EC key the ES* of its curve, an Ed25519 key EdDSA. A route's
 * pinned list is cut down to these per key, so a token whose header says HS256 is never checked
 * against an RSA public key used as an HMAC secret (the algorithm-confusion attack).
 */
const HS = ['HS256', 'HS384', 'HS512'];
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const PSS = ['PS256', 'PS384', 'PS512'];
const CURVE: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384' };

/** RSA keys shorter than this are refused (NIST SP 800-131A; RFC 7518 §3.3 requires 2048). */
const MIN_RSA_BITS = 2048;

/** The algorithms of `pinned` this PEM public key (or certificate) can verify; throws when it is no public key, or too weak. */
export function pemAlgorithms(pem: string, pinned: readonly string[]): string[] {
  const key = strongEnough(createPublicKey(pem));
  const type = key.asymmetricKeyType;
  let fits: readonly string[] = [];
  if (type === 'rsa') fits = RSA;
  else if (type === 'rsa-pss') fits = PSS;
  else if (type === 'ec') fits = [CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? ''];
  else if (type === 'ed25519') fits = ['EdDSA'];
  return pinned.filter((a) => fits.includes(a));
}

/** The algorithms of `pinned` an HMAC secret can verify. */
export function secretAlgorithms(pinned: readonly string[]): string[] {
  return pinned.filter((a) => HS.includes(a));
}

/** A PEM public key for a JWK (RSA, EC, OKP); throws for a JWK that is none of them. */
export function jwkToPem(jwk: Record<string, unknown>): string {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') throw new Error(`kty ${String(jwk.kty)} is not a public-key type`);
  // Only the public members: a JWKS that carries private parts ("d") must not make us hold them.
  const { kty, n, e, crv, x, y } = jwk;
  const pub = Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined));
  return strongEnough(createPublicKey({ key: pub as never, format: 'jwk' })).export({ type: 'spki', format: 'pem' }) as string;
}

function strongEnough(key: KeyObject): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) throw new Error(`an RSA key of ${bits} bits is too short: at least ${MIN_RSA_BITS}`);
  return key;
}
