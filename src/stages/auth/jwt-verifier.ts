import { createVerifier, type TokenError } from 'fast-jwt';
import type { JwtPlan } from './compile.js';
import { pemAlgorithms } from './key-algorithms.js';
import { REFUSED, type Refusal } from './refusal.js';

/** A JWKS key as the primary publishes it (jwks-service.ts). */
export interface JwksKey {
  readonly kid: string;
  /** The JWK's alg, or "" when it names none. */
  readonly alg: string;
  readonly pem: string;
}

/** One key ready to verify: fast-jwt's verifier, pinned to the algorithms of the route this key can do. */
interface KeyVerifier {
  readonly kid: string;
  readonly algorithms: readonly string[];
  readonly verify: (token: string) => Record<string, unknown>;
}

/** A verified token's payload, and the kid of the key that verified it ("" when the token named none). */
export interface Checked {
  readonly payload: Record<string, unknown>;
  readonly kid: string;
}

/**
 * Signature and registered claims of a route's tokens, with fast-jwt. The token's header picks the
 * key: its alg must be one the route pins and the key can do (key-algorithms.ts), its kid names the
 * key. A token without a kid is tried against every static key that can do its alg, and against the
 * JWKS key only when just one can: else any made-up token would cost a signature check per key. Claims are checked by
 * fast-jwt only after the signature, so a claim error means the token was genuine.
 */
export class JwtVerifier {
  private readonly fixed: KeyVerifier[];
  private fromJwks: KeyVerifier[] = [];
  /** A JWKS has arrived for the route (it may hold no usable key). */
  jwksLoaded = false;

  constructor(private readonly plan: JwtPlan) {
    this.fixed = plan.keys.map((k) => this.keyVerifier(k.kid, k.material, k.algorithms));
  }

  /** The route's JWKS changed: keys it cannot use for the route's algorithms are left out. */
  setJwks(keys: readonly JwksKey[]): void {
    const out: KeyVerifier[] = [];
    for (const k of keys) {
      let algorithms: string[];
      try {
        algorithms = pemAlgorithms(k.pem, this.plan.algorithms);
      } catch {
        continue;
      }
      // A JWK that names its alg is used for that one only (RFC 7517 §4.4).
      if (k.alg !== '') algorithms = algorithms.filter((a) => a === k.alg);
      if (algorithms.length > 0) out.push(this.keyVerifier(k.kid, k.pem, algorithms));
    }
    this.fromJwks = out;
    this.jwksLoaded = true;
  }

  /** The payload, or why the token is refused; `unknownKid` tells the caller a JWKS refresh may help. */
  check(token: string): Checked | Refusal {
    const header = decodeHeader(token);
    if (header === null) return REFUSED.malformed;
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.plan.algorithms.includes(alg)) return REFUSED.algorithm;
    const kid = typeof header.kid === 'string' ? header.kid : '';
    const kidless = kid === '' && severalCan(this.fromJwks, alg);
    let tried = 0;
    let named = false;
    let last: Refusal = REFUSED.signature;
    for (const list of [this.fixed, kidless ? NO_KEYS : this.fromJwks]) {
      for (const k of list) {
        if (kid !== '' && k.kid !== kid) continue;
        named = true;
        if (!k.algorithms.includes(alg)) continue;
        tried++;
        try {
          return { payload: k.verify(token), kid };
        } catch (err) {
          last = refusalOf(err as TokenError);
          if (last !== REFUSED.signature) return last;
        }
      }
    }
    if (tried > 0) return last;
    if (kidless) return REFUSED.kidRequired;
    if (named) return REFUSED.algorithm;
    // No static key fits, and the JWKS that may hold the key has not arrived: not the caller's fault.
    if (this.plan.jwksUrl !== null && !this.jwksLoaded) return REFUSED.keysUnavailable;
    return kid === '' ? REFUSED.algorithm : REFUSED.unknownKid;
  }

  private keyVerifier(kid: string, key: string, algorithms: readonly string[]): KeyVerifier {
    const p = this.plan;
    const verify = createVerifier({
      key,
      algorithms: algorithms as never,
      allowedIss: p.issuer === null ? undefined : [...p.issuer],
      allowedAud: p.audience === null ? undefined : [...p.audience],
      requiredClaims: p.requiredClaims.length === 0 ? undefined : [...p.requiredClaims],
      clockTolerance: p.clockSkewMs,
      maxAge: p.maxAgeMs === 0 ? undefined : p.maxAgeMs,
      cache: false,
    });
    return { kid, algorithms, verify };
  }
}

const NO_KEYS: readonly KeyVerifier[] = [];

/** Whether more than one of these keys can verify `alg`. */
function severalCan(keys: readonly KeyVerifier[], alg: string): boolean {
  let n = 0;
  for (const k of keys) if (k.algorithms.includes(alg) && ++n > 1) return true;
  return false;
}

/** The JOSE header of a compact JWS, or null when it is not one. */
function decodeHeader(token: string): Record<string, unknown> | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.indexOf('.', dot + 1) === -1) return null;
  try {
    const h = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof h === 'object' && h !== null && !Array.isArray(h) ? h : null;
  } catch {
    return null;
  }
}

function refusalOf(err: TokenError): Refusal {
  switch (err.code) {
    case 'FAST_JWT_EXPIRED':
      return REFUSED.expired;
    case 'FAST_JWT_INACTIVE':
      return REFUSED.notYetValid;
    case 'FAST_JWT_INVALID_ALGORITHM':
      return REFUSED.algorithm;
    case 'FAST_JWT_INVALID_SIGNATURE':
    case 'FAST_JWT_MISSING_SIGNATURE':
      return REFUSED.signature;
    case 'FAST_JWT_INVALID_CLAIM_VALUE':
      if (/\biss\b/.test(err.message)) return REFUSED.issuer;
      if (/\baud\b/.test(err.message)) return REFUSED.audience;
      return REFUSED.claims;
    case 'FAST_JWT_MISSING_REQUIRED_CLAIM':
    case 'FAST_JWT_INVALID_CLAIM_TYPE':
      return REFUSED.claims;
    default:
      return REFUSED.malformed;
  }
}
