import { dropFields } from '../../http/fields.js';
import type { LocalReply, Stage, UpstreamRequestHead } from '../../pipeline/phase.js';
import type { Principal, RequestCtx, RequestState } from '../../pipeline/request-ctx.js';
import type { ServiceView, StageEnv } from '../../pipeline/stage-factory.js';
import { bearerToken, soleAuthorization } from './bearer.js';
import { forwardedHeaders, hasScopes, scopesOf } from './claims.js';
import type { AuthPlan, JwksSettings, JwtPlan } from './compile.js';
import type { JwksPublished } from './jwks-service.js';
import { JwtVerifier } from './jwt-verifier.js';
import { PublishedDoc } from './published-doc.js';
import { REFUSED, type Refusal } from './refusal.js';
import { Refuser } from './refuser.js';
import { TokenCache, type Verified } from './token-cache.js';

/** Verified tokens kept per route and worker. */
const TOKEN_CACHE_ENTRIES = 10_000;

/**
 * `auth: { jwt }` in a worker: the bearer token verified (or taken from the verified-token cache),
 * the principal set, the verified claims forwarded in place of anything the client sent under
 * their names.
 */
export class JwtStage implements Stage {
  readonly name = 'auth';
  private readonly verifier: JwtVerifier;
  private readonly cache = new TokenCache(TOKEN_CACHE_ENTRIES);
  private readonly refuser: Refuser;
  private readonly verified: RequestState<Verified>;
  private readonly keys: ServiceView;
  /** The route's JWKS, or null when it has none. */
  private readonly jwks: PublishedDoc<JwksPublished[string]> | null;
  private readonly refreshMs: number;
  private lastSignal = Number.NEGATIVE_INFINITY;

  constructor(
    plan: AuthPlan,
    private readonly jwt: JwtPlan,
    env: StageEnv<JwksSettings>,
  ) {
    this.verifier = new JwtVerifier(jwt);
    this.refuser = new Refuser(plan, env);
    this.verified = env.state<Verified>();
    this.keys = env.service;
    this.refreshMs = env.settings.unknownKidRefreshMs;
    this.jwks = jwt.jwksUrl === null ? null : new PublishedDoc(env.service, 'jwks', jwt.jwksUrl);
  }

  onRequest(ctx: RequestCtx): LocalReply | null {
    const authorization = soleAuthorization(ctx.rawHeaders);
    if (authorization === null) return this.refuser.refuse(ctx, REFUSED.twoTokens);
    const token = bearerToken(authorization);
    if (token === null) return this.refuser.refuse(ctx, authorization === undefined || !/^bearer /i.test(authorization) ? REFUSED.missing : REFUSED.malformed);
    if (this.jwks !== null) this.takeJwks(this.jwks);
    const now = Date.now();
    let v = this.cache.get(token, now);
    if (v === undefined) {
      const r = this.verify(token, now);
      if (!('principal' in r)) return this.refuser.refuse(ctx, r);
      v = r;
      this.cache.set(token, v);
    }
    ctx.principal = v.principal;
    this.verified.set(ctx, v);
    return null;
  }

  onUpstreamRequest(ctx: RequestCtx, head: UpstreamRequestHead): void {
    const h = head.headers;
    const forward = this.jwt.forward;
    for (let i = 1; i < forward.length; i += 2) dropFields(h, forward[i]);
    if (this.jwt.stripAuthorization) dropFields(h, 'authorization');
    const v = this.verified.get(ctx);
    if (v !== undefined) for (let i = 0; i < v.headers.length; i++) h.push(v.headers[i]);
  }

  /** Signature, claims, scopes and forwarded values of a token not in the cache. */
  private verify(token: string, now: number): Verified | Refusal {
    const r = this.verifier.check(token);
    if (!('payload' in r)) {
      // No keys yet: the primary retries on its own, but a waiting caller is a reason to try now.
      if (r === REFUSED.unknownKid || r === REFUSED.keysUnavailable) this.askForKeys(now);
      return r;
    }
    const p = r.payload;
    const jwt = this.jwt;
    if ((jwt.scopesAny !== null || jwt.scopesAll !== null) && !hasScopes(scopesOf(p), jwt.scopesAny, jwt.scopesAll)) return REFUSED.scope;
    const headers = forwardedHeaders(p, jwt.forward);
    if (headers === null) return REFUSED.unsafeClaim;
    const principal: Principal = { via: 'jwt', subject: typeof p.sub === 'string' ? p.sub : '', keyId: r.kid === '' ? null : r.kid, claims: p };
    return { principal, headers, untilMs: validUntil(p, jwt) };
  }

  /** The route's JWKS changed in the primary: take its keys (and forget tokens verified with the old ones). */
  private takeJwks(jwks: PublishedDoc<JwksPublished[string]>): void {
    const doc = jwks.newer();
    if (doc === null) return;
    this.verifier.setJwks(doc.keys);
    this.cache.clear();
  }

  /** A token named a kid nobody knows, or no keys arrived yet: ask the primary to fetch again (it limits how often). */
  private askForKeys(now: number): void {
    if (this.jwt.jwksUrl === null || now - this.lastSignal < this.refreshMs) return;
    this.lastSignal = now;
    this.keys.signal({ url: this.jwt.jwksUrl });
  }
}

/** The last instant (epoch ms) the token passes: exp plus the skew, and iat plus max_age_s. */
function validUntil(p: Record<string, unknown>, jwt: JwtPlan): number {
  let until = typeof p.exp === 'number' ? p.exp * 1000 + jwt.clockSkewMs : Number.POSITIVE_INFINITY;
  if (jwt.maxAgeMs > 0 && typeof p.iat === 'number') until = Math.min(until, p.iat * 1000 + jwt.maxAgeMs);
  return until;
}
