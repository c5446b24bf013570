import type { Logger } from 'pino';
import type { ErrorCode } from '../../errors/catalog.js';
import { dropFields } from '../../http/fields.js';
import { OncePerSecond } from '../../observe/once-per-second.js';
import type { LocalReply, Stage, UpstreamRequestHead } from '../../pipeline/phase.js';
import type { Principal, RequestCtx, RequestState } from '../../pipeline/request-ctx.js';
import type { ServiceView, StageEnv } from '../../pipeline/stage-factory.js';
import { AMBIGUOUS, maskedParam, matchKey, presentedKey, withoutParam } from './api-key.js';
import { bearerToken, soleAuthorization } from './bearer.js';
import { forwardedHeaders, hasScopes, scopesOf } from './claims.js';
import type { ApiKeyPlan, AuthPlan, JwksSettings, JwtPlan } from './compile.js';
import { type JwksKey, JwtVerifier } from './jwt-verifier.js';
import type { StoredKey } from './keys-file.js';
import { challenges, REFUSED, type Refusal, refusalReply } from './refusal.js';
import type { AuthPublished } from './service.js';
import { TokenCache, type Verified } from './token-cache.js';

/** Verified tokens kept per route and worker. */
const TOKEN_CACHE_ENTRIES = 10_000;

/**
 * `auth:` in a worker. onRequest decides who the caller is (a bearer JWT or an API key), answers
 * 401/403 when it cannot tell, and sets ctx.principal; onUpstreamRequest removes whatever the client
 * sent under the forwarded names, then writes the verified values (no spoofing), and drops the
 * credential when it must not go upstream.
 */
export function authStage(plan: AuthPlan, env: StageEnv<JwksSettings>): Stage {
  return plan.jwt !== null ? new JwtStage(plan, plan.jwt, env) : new ApiKeyStage(plan, plan.apiKey!, env);
}

/** Refusal answers and their log lines, shared by both kinds. */
class Refuser {
  private readonly challenge: Map<Refusal, string>;
  private readonly lines = new Map<ErrorCode, OncePerSecond>();

  constructor(
    private readonly plan: AuthPlan,
    private readonly log: Logger,
  ) {
    const scopes = plan.jwt === null ? [] : [...(plan.jwt.scopesAll ?? []), ...(plan.jwt.scopesAny ?? [])];
    this.challenge = challenges(plan.realm, scopes);
    for (const r of Object.values(REFUSED)) this.lines.set(r.code, new OncePerSecond());
  }

  /** The answer; a log line per code at most once a second, with how many were refused since. Never the credential. */
  refuse(ctx: RequestCtx, r: Refusal): LocalReply {
    const n = this.lines.get(r.code)!.hit();
    if (n > 0) this.log.info({ code: r.code, reason: r.description, route: this.plan.route, refused: n }, 'auth refusing requests');
    return refusalReply(r, this.challenge.get(r)!, ctx.id);
  }
}

class JwtStage implements Stage {
  readonly name = 'auth';
  private readonly verifier: JwtVerifier;
  private readonly cache = new TokenCache(TOKEN_CACHE_ENTRIES);
  private readonly refuser: Refuser;
  private readonly verified: RequestState<Verified>;
  private readonly keys: ServiceView;
  private readonly refreshMs: number;
  private seenPublished: unknown;
  private seenVersion = -1;
  private lastSignal = Number.NEGATIVE_INFINITY;

  constructor(
    plan: AuthPlan,
    private readonly jwt: JwtPlan,
    env: StageEnv<JwksSettings>,
  ) {
    this.verifier = new JwtVerifier(jwt);
    this.refuser = new Refuser(plan, env.log);
    this.verified = env.state<Verified>();
    this.keys = env.service;
    this.refreshMs = env.settings.unknownKidRefreshMs;
    this.seenPublished = undefined;
  }

  onRequest(ctx: RequestCtx): LocalReply | null {
    const authorization = soleAuthorization(ctx.rawHeaders);
    if (authorization === null) return this.refuser.refuse(ctx, REFUSED.twoTokens);
    const token = bearerToken(authorization);
    if (token === null) return this.refuser.refuse(ctx, authorization === undefined || !/^bearer /i.test(authorization) ? REFUSED.missing : REFUSED.malformed);
    if (this.jwt.jwksUrl !== null && this.keys.current !== this.seenPublished) this.takeJwks();
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

  /** The primary published JWKS documents: take this route's if it changed (and forget tokens verified with the old keys). */
  private takeJwks(): void {
    const published = this.keys.current as AuthPublished | undefined;
    this.seenPublished = published;
    const doc = published?.jwks[this.jwt.jwksUrl!];
    if (doc === undefined || doc.version === this.seenVersion) return;
    this.seenVersion = doc.version;
    this.verifier.setJwks(doc.keys as JwksKey[]);
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

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

class ApiKeyStage implements Stage {
  readonly name = 'auth';
  private hashes: Buffer[] = [];
  private principals: Principal[] = [];
  private readonly refuser: Refuser;
  private readonly files: ServiceView;
  private seenPublished: unknown;
  private seenVersion = -1;

  constructor(
    plan: AuthPlan,
    private readonly key: ApiKeyPlan,
    env: StageEnv<JwksSettings>,
  ) {
    this.refuser = new Refuser(plan, env.log);
    this.files = env.service;
    this.useKeys(key.keys);
  }

  onRequest(ctx: RequestCtx): LocalReply | null {
    if (this.key.keysFile !== null && this.files.current !== this.seenPublished) this.takeKeysFile();
    const presented = presentedKey(ctx, this.key);
    if (presented === null) return this.refuser.refuse(ctx, REFUSED.missing);
    // The access log must not carry the key, whatever the parameter is called, refused or not.
    if (this.key.query !== null) ctx.logQuery = maskedParam(ctx.query, this.key.query);
    const i = presented === AMBIGUOUS ? -1 : matchKey(presented, this.hashes);
    if (i === -1) return this.refuser.refuse(ctx, REFUSED.apiKey);
    ctx.principal = this.principals[i];
    return null;
  }

  /** The watched keys file changed (the primary published it): its keys join the config's. */
  private takeKeysFile(): void {
    const published = this.files.current as AuthPublished | undefined;
    this.seenPublished = published;
    const doc = published?.keyFiles[this.key.keysFile!];
    if (doc === undefined || doc.version === this.seenVersion) return;
    this.seenVersion = doc.version;
    this.useKeys([...this.key.keys, ...doc.keys]);
  }

  private useKeys(keys: readonly StoredKey[]): void {
    this.hashes = keys.map((k) => Buffer.from(k.sha256, 'hex'));
    this.principals = keys.map((k): Principal => ({ via: 'api_key', subject: k.id, keyId: k.id, claims: NO_CLAIMS }));
  }

  onUpstreamRequest(ctx: RequestCtx, head: UpstreamRequestHead): void {
    const k = this.key;
    if (k.header !== null) dropFields(head.headers, k.header);
    else head.query = withoutParam(head.query, k.query!);
    dropFields(head.headers, k.forwardId);
    if (ctx.principal !== null) head.headers.push(k.forwardId, ctx.principal.keyId!);
  }
}
