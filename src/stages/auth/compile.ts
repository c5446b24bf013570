import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HOP_BY_HOP_NAMES } from '../../http/hop-by-hop.js';
import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import { pemAlgorithms, secretAlgorithms } from './key-algorithms.js';
import { parseKeysFile, type StoredKey } from './keys-file.js';
import type { ApiKeyConfig, AuthConfig, JwksSettingsConfig, JwtConfig } from './schema.js';

/** One static verification key, its material read in the primary (files and variables included). */
export interface KeyPlan {
  readonly kid: string;
  /** An HMAC secret or a PEM public key. */
  readonly material: string;
  /** The route's algorithms this key can verify (key-algorithms.ts). */
  readonly algorithms: readonly string[];
}

export interface JwtPlan {
  readonly algorithms: readonly string[];
  readonly keys: readonly KeyPlan[];
  readonly jwksUrl: string | null;
  readonly issuer: readonly string[] | null;
  readonly audience: readonly string[] | null;
  readonly requiredClaims: readonly string[];
  readonly scopesAny: readonly string[] | null;
  readonly scopesAll: readonly string[] | null;
  readonly clockSkewMs: number;
  /** 0: no limit on the token's age. */
  readonly maxAgeMs: number;
  /** Flat [claim, lower-case header, claim, header, ...]. */
  readonly forward: readonly string[];
  readonly stripAuthorization: boolean;
}

export interface ApiKeyPlan {
  /** Lower-case header name, or null when the key comes in the query. */
  readonly header: string | null;
  readonly query: string | null;
  /** The config's keys (keys_file's come from the service, which watches it). */
  readonly keys: readonly StoredKey[];
  /** Absolute path of keys_file, or null. */
  readonly keysFile: string | null;
  readonly forwardId: string;
}

export interface AuthPlan {
  readonly route: string;
  readonly realm: string;
  readonly jwt: JwtPlan | null;
  readonly apiKey: ApiKeyPlan | null;
}

/** The compiled `jwks:` settings, in milliseconds. */
export interface JwksSettings {
  readonly minCacheMs: number;
  readonly maxCacheMs: number;
  readonly defaultCacheMs: number;
  readonly unknownKidRefreshMs: number;
  readonly timeoutMs: number;
}

export function compileJwksSettings(c: JwksSettingsConfig, problems: StageProblems): JwksSettings {
  if (c.max_cache_s < c.min_cache_s) problems.report(['max_cache_s'], 'must be at least min_cache_s');
  return {
    minCacheMs: c.min_cache_s * 1000,
    maxCacheMs: c.max_cache_s * 1000,
    defaultCacheMs: c.default_cache_s * 1000,
    unknownKidRefreshMs: c.unknown_kid_refresh_s * 1000,
    timeoutMs: c.timeout_ms,
  };
}

/**
 * Headers a claim or key id may not be forwarded in: they frame the message (hop-by-hop,
 * content-length), sluice writes them for every request (upstream/request-head.ts: host, x-request-id,
 * x-forwarded-for/-proto/-host, via), or they carry the credential (authorization). A claim sent as
 * x-forwarded-for would replace the client chain sluice checked.
 */
const CANNOT_FORWARD = [
  ...HOP_BY_HOP_NAMES,
  'content-length',
  'host',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'via',
  'authorization',
];
/** RFC 7518 §3.2: an HMAC key at least as long as the hash; 32 bytes is HS256's. */
const MIN_SECRET_BYTES = 32;

/** The kind of caller a route's raw `auth:` proves (RouteContext.principal). */
export function principalKind(raw: unknown): 'jwt' | 'api_key' | null {
  const a = raw as AuthConfig | undefined;
  return a?.jwt !== undefined ? 'jwt' : a?.api_key !== undefined ? 'api_key' : null;
}

export function compileAuth(c: AuthConfig, route: RouteContext, problems: StageProblems): AuthPlan | null {
  if ((c.jwt === undefined) === (c.api_key === undefined)) problems.report(['auth'], 'set exactly one of jwt or api_key');
  return {
    route: route.name,
    realm: c.realm ?? route.name.replace(/["\\]/g, ''),
    jwt: c.jwt === undefined ? null : compileJwt(c.jwt, route.configDir, problems),
    apiKey: c.api_key === undefined ? null : compileApiKey(c.api_key, route.configDir, problems),
  };
}

function compileJwt(c: JwtConfig, configDir: string, problems: StageProblems): JwtPlan {
  const at = (...rel: (string | number)[]) => ['auth', 'jwt', ...rel];
  const algorithms = [...new Set(c.algorithms)];
  if (c.keys === undefined && c.jwks_url === undefined) problems.report(at(), 'set keys, jwks_url, or both');
  const kids = new Set<string>();
  const keys: KeyPlan[] = [];
  (c.keys ?? []).forEach((k, i) => {
    const kid = k.kid ?? '';
    if (kids.has(kid)) problems.report(at('keys', i, 'kid'), kid === '' ? 'only one key may lack a kid' : `duplicate kid "${kid}"`);
    kids.add(kid);
    const key = readKey(k, configDir, algorithms, (field, message) => problems.report(at('keys', i, ...field), message));
    if (key !== null) keys.push({ kid, ...key });
  });
  if (c.jwks_url !== undefined && !algorithms.some((a) => !a.startsWith('HS'))) {
    problems.report(at('jwks_url'), 'a JWKS holds public keys: add an asymmetric algorithm (RS*, PS*, ES*, EdDSA) to algorithms');
  }
  if (c.jwks_url !== undefined && !c.jwks_insecure_http && !isSafeJwksUrl(c.jwks_url)) {
    problems.report(at('jwks_url'), 'a plain http JWKS off loopback lets anyone on the path swap the keys: use https, or set jwks_insecure_http: true');
  }
  const forward: string[] = [];
  for (const [claim, header] of Object.entries(c.forward_claims ?? {})) {
    const lower = header.toLowerCase();
    if (CANNOT_FORWARD.includes(lower)) problems.report(at('forward_claims', claim), `${lower} cannot carry a claim: sluice or the protocol owns it`);
    for (let i = 1; i < forward.length; i += 2) {
      if (forward[i] === lower) problems.report(at('forward_claims', claim), `${lower} already carries claim ${forward[i - 1]}`);
    }
    forward.push(claim, lower);
  }
  const required = [...(c.required_claims ?? [])];
  // fast-jwt checks max age from iat only when the token has one: a token without iat must not pass.
  if (c.max_age_s !== undefined && !required.includes('iat')) required.push('iat');
  return {
    algorithms,
    keys,
    jwksUrl: c.jwks_url ?? null,
    issuer: c.issuer === undefined ? null : typeof c.issuer === 'string' ? [c.issuer] : [...c.issuer],
    audience: c.audience === undefined ? null : typeof c.audience === 'string' ? [c.audience] : [...c.audience],
    requiredClaims: required,
    scopesAny: c.scopes?.any === undefined ? null : [...c.scopes.any],
    scopesAll: c.scopes?.all === undefined ? null : [...c.scopes.all],
    clockSkewMs: c.clock_skew_s * 1000,
    maxAgeMs: (c.max_age_s ?? 0) * 1000,
    forward,
    stripAuthorization: c.strip_authorization,
  };
}

/** https, or http to this machine: nobody else on the path can change the keys. */
function isSafeJwksUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  const host = u.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

type KeyConfig = NonNullable<JwtConfig['keys']>[number];

/** The key's material and algorithms, or null (reported) when it is unusable. */
function readKey(
  k: KeyConfig,
  configDir: string,
  pinned: readonly string[],
  report: (field: string[], message: string) => void,
): { material: string; algorithms: string[] } | null {
  const sources = (['secret', 'secret_env', 'secret_file', 'pem', 'pem_file'] as const).filter((s) => k[s] !== undefined);
  if (sources.length !== 1) {
    report([], 'set exactly one of secret, secret_env, secret_file, pem, pem_file');
    return null;
  }
  const source = sources[0];
  let material: string;
  if (source === 'secret_env') {
    const v = process.env[k.secret_env!];
    if (v === undefined || v === '') {
      report(['secret_env'], `environment variable ${k.secret_env} is not set`);
      return null;
    }
    material = v;
  } else if (source === 'secret_file' || source === 'pem_file') {
    try {
      material = readFileSync(resolve(configDir, k[source]!), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      report([source], `cannot read ${resolve(configDir, k[source]!)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return null;
    }
  } else {
    material = k[source]!;
  }
  if (source.startsWith('secret')) {
    if (Buffer.byteLength(material) < MIN_SECRET_BYTES) report([source], `an HMAC secret needs at least ${MIN_SECRET_BYTES} bytes`);
    const algorithms = secretAlgorithms(pinned);
    if (algorithms.length === 0) report([source], 'an HMAC secret verifies HS* only: add HS256, HS384 or HS512 to algorithms, or use a pem key');
    return { material, algorithms };
  }
  let algorithms: string[];
  try {
    algorithms = pemAlgorithms(material, pinned);
  } catch (err) {
    report([source], /too short/.test((err as Error).message) ? (err as Error).message : 'not a PEM public key or certificate');
    return null;
  }
  if (algorithms.length === 0) report([source], `this key verifies none of the route's algorithms (${pinned.join(', ')})`);
  return { material, algorithms };
}

function compileApiKey(c: ApiKeyConfig, configDir: string, problems: StageProblems): ApiKeyPlan {
  const at = (...rel: (string | number)[]) => ['auth', 'api_key', ...rel];
  if (c.header !== undefined && c.query !== undefined) problems.report(at('query'), 'set header or query, not both');
  const forwardId = c.forward_id.toLowerCase();
  if (CANNOT_FORWARD.includes(forwardId)) problems.report(at('forward_id'), `${forwardId} cannot carry the key id: sluice or the protocol owns it`);
  const header = c.query !== undefined ? null : (c.header ?? 'x-api-key').toLowerCase();
  if (header !== null && (CANNOT_FORWARD.includes(header) || header === forwardId)) {
    problems.report(at('header'), `${header} cannot carry the API key`);
  }
  if (c.keys === undefined && c.keys_file === undefined) problems.report(at(), 'set keys, keys_file, or both');
  const ids = new Set<string>();
  const keys = (c.keys ?? []).map((k, i) => {
    if (ids.has(k.id)) problems.report(at('keys', i, 'id'), `duplicate key id "${k.id}"`);
    ids.add(k.id);
    return { id: k.id, sha256: k.hash.slice(7).toLowerCase() };
  });
  const keysFile = c.keys_file === undefined ? null : resolve(configDir, c.keys_file);
  if (keysFile !== null) {
    // Read now so that a bad file refuses the config; the service then watches it.
    try {
      const parsed = parseKeysFile(readFileSync(keysFile, 'utf8'));
      for (const p of parsed.problems) problems.report(at('keys_file'), `${keysFile} ${p}`);
      for (const k of parsed.keys) if (ids.has(k.id)) problems.report(at('keys_file'), `${keysFile}: key id "${k.id}" is also under keys`);
    } catch (err) {
      problems.report(at('keys_file'), `cannot read ${keysFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return { header, query: c.query ?? null, keys, keysFile, forwardId };
}
