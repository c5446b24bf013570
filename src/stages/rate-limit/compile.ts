import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import { slotCount } from '../../shared/slot-table.js';
import { type KeyPart, parseKeyPart } from './limit-key.js';
import type { LimitConfig, RateLimitsConfig } from './schema.js';

/**
 * `rate_limit:` compiled in the primary (docs/rate-limits.md): each limit's GCRA interval and burst
 * tolerance in nanoseconds, its key parts, and the limits sorted in the order they are evaluated.
 */
export interface LimitPlan {
  readonly name: string;
  /** route + name: seeds key hashing and names Redis keys. */
  readonly id: string;
  readonly key: readonly KeyPart[];
  readonly kind: 'local' | 'cluster' | 'in_flight';
  readonly intervalNs: number;
  readonly toleranceNs: number;
  readonly burst: number;
  readonly maxInFlight: number;
  readonly denyOnStoreError: boolean;
  /** This limit's RateLimit-Policy item, or null when headers are off. */
  readonly policy: string | null;
}

export interface RateLimitPlan {
  readonly route: string;
  /** In evaluation order. */
  readonly limits: readonly LimitPlan[];
}

const DURATION = /^([0-9]+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const ORDER = { local: 0, in_flight: 1, cluster: 2 } as const;

/** The gateway-wide `rate_limits:` settings. */
export interface RateLimitSettings {
  /** Slots of each shared table (a power of two); the tables are made at start and never resized. */
  readonly tableSlots: number;
  readonly redis: { readonly url: string; readonly timeoutMs: number; readonly keyPrefix: string } | null;
}

export function compileSettings(c: RateLimitsConfig): RateLimitSettings {
  return {
    tableSlots: slotCount(c.table_slots),
    redis: c.redis === undefined ? null : { url: c.redis.url, timeoutMs: c.redis.timeout_ms, keyPrefix: c.redis.key_prefix },
  };
}

export function compileRateLimit(
  list: readonly LimitConfig[],
  route: RouteContext,
  settings: RateLimitSettings,
  problems: StageProblems,
): RateLimitPlan | null {
  if (list.length === 0) return null;
  const names = new Set<string>();
  const limits = list.map((l, i) => {
    if (names.has(l.name)) problems.report(['rate_limit', i, 'name'], `duplicate limit name "${l.name}" in this route`);
    names.add(l.name);
    const report = (field: string, message: string) => problems.report(['rate_limit', i, field], message);
    checkPrincipalParts(l, route, report);
    return compileLimit(route.name, l, report, settings.redis !== null);
  });
  return { route: route.name, limits: limits.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]) };
}

/** A key part the route's auth: never sets would put every caller in one budget: refused. */
function checkPrincipalParts(l: LimitConfig, route: RouteContext, report: (field: string, message: string) => void): void {
  for (const text of typeof l.key === 'string' ? [l.key] : l.key) {
    const part = parseKeyPart(text)!;
    if (part.kind !== 'jwt' && part.kind !== 'api_key') continue;
    if (route.principal !== part.kind) {
      report('key', `${text} needs auth: { ${part.kind === 'jwt' ? 'jwt' : 'api_key'}: ... } on this route; without it every caller shares one budget`);
    }
  }
}

function compileLimit(route: string, l: LimitConfig, report: (field: string, message: string) => void, haveRedis: boolean): LimitPlan {
  const keyParts = (typeof l.key === 'string' ? [l.key] : l.key).map((k) => parseKeyPart(k)!);
  const base = {
    name: l.name,
    id: `${route}\0${l.name}`,
    key: keyParts,
    denyOnStoreError: l.on_store_error === 'deny',
    intervalNs: 0,
    toleranceNs: 0,
    burst: 0,
    maxInFlight: 0,
    policy: null,
  };
  if ((l.rate === undefined) === (l.max_in_flight === undefined)) {
    report('rate', 'set exactly one of rate (a rate limit) or max_in_flight (a concurrency limit)');
    return { ...base, kind: 'local' };
  }
  if (l.max_in_flight !== undefined) {
    if (l.scope === 'cluster') report('scope', 'max_in_flight limits are local to a gateway process; remove scope: cluster');
    if (l.burst !== undefined) report('burst', 'burst applies to rate limits only');
    return { ...base, kind: 'in_flight', maxInFlight: l.max_in_flight };
  }
  if (l.scope === 'cluster' && !haveRedis) report('scope', 'scope: cluster needs rate_limits.redis.url');
  const m = DURATION.exec(l.per)!;
  const perMs = Number(m[1]) * UNIT_MS[m[2]];
  const rate = l.rate!;
  const burst = l.burst ?? rate;
  const intervalNs = Math.floor((perMs * 1e6) / rate);
  if (intervalNs < 1000) report('rate', `${rate} per ${l.per} is finer than 1 µs per request; use a longer per`);
  const window = Math.max(1, Math.ceil(perMs / 1000));
  return {
    ...base,
    kind: l.scope === 'cluster' ? 'cluster' : 'local',
    intervalNs,
    toleranceNs: (burst - 1) * intervalNs,
    burst,
    policy: l.headers ? `"${l.name}";q=${Math.round((rate * window * 1000) / perMs)};w=${window}` : null,
  };
}
