import type { ErrorCode } from '../../errors/catalog.js';
import { errorReply } from '../../pipeline/local-reply.js';
import type { LocalReply } from '../../pipeline/phase.js';
import type { RequestCtx } from '../../pipeline/request-ctx.js';

/**
 * Why a request was refused: each reason has its error code, and the RFC 6750 error and description
 * that go in WWW-Authenticate. Descriptions are fixed text: nothing from the request is echoed.
 */
export interface Refusal {
  readonly code: ErrorCode;
  /** RFC 6750 §3.1 error, or null for a request that sent no credentials (then only the realm). */
  readonly error: 'invalid_token' | 'insufficient_scope' | null;
  readonly description: string;
}

const refusal = (code: ErrorCode, error: Refusal['error'], description: string): Refusal => ({ code, error, description });

export const REFUSED = {
  missing: refusal('SLUICE_ERR_AUTH_MISSING', null, 'no credentials'),
  malformed: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token is malformed'),
  twoTokens: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'more than one Authorization header'),
  signature: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token signature is invalid'),
  algorithm: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token algorithm is not accepted'),
  unknownKid: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token key id is unknown'),
  kidRequired: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token names no key id and several JWKS keys could verify it'),
  issuer: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token issuer is not accepted'),
  audience: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token audience is not accepted'),
  claims: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'the token lacks a required claim or a claim is invalid'),
  unsafeClaim: refusal('SLUICE_ERR_AUTH_INVALID_TOKEN', 'invalid_token', 'a forwarded claim holds a control character or a list item with a comma'),
  expired: refusal('SLUICE_ERR_AUTH_TOKEN_EXPIRED', 'invalid_token', 'the token has expired'),
  notYetValid: refusal('SLUICE_ERR_AUTH_TOKEN_NOT_YET_VALID', 'invalid_token', 'the token is not valid yet'),
  scope: refusal('SLUICE_ERR_AUTH_INSUFFICIENT_SCOPE', 'insufficient_scope', 'the token lacks a required scope'),
  keysUnavailable: refusal('SLUICE_ERR_AUTH_KEYS_UNAVAILABLE', null, 'the verification keys are not available yet'),
  apiKey: refusal('SLUICE_ERR_AUTH_INVALID_API_KEY', 'invalid_token', 'the API key is not accepted'),
} as const satisfies Record<string, Refusal>;

/** The WWW-Authenticate value of each refusal for one realm, made once per route. */
export function challenges(realm: string, scopes: readonly string[]): Map<Refusal, string> {
  const out = new Map<Refusal, string>();
  for (const r of Object.values(REFUSED)) {
    let v = `Bearer realm="${realm}"`;
    if (r.error !== null) v += `, error="${r.error}", error_description="${r.description}"`;
    // RFC 6750 §3: the scope the resource needs (scope tokens cannot hold quotes; the schema checks).
    if (r === REFUSED.scope && scopes.length > 0) v += `, scope="${scopes.join(' ')}"`;
    out.set(r, v);
  }
  return out;
}

/** The answer: the JSON error body of every gateway error, with the challenge (not for a 503: it is no credential problem). */
export function refusalReply(r: Refusal, challenge: string, ctx: RequestCtx): LocalReply {
  const reply = errorReply(r.code, ctx, r.description);
  if (r === REFUSED.keysUnavailable) return reply;
  return { ...reply, headers: [...(reply.headers ?? []), ['www-authenticate', challenge]] };
}
