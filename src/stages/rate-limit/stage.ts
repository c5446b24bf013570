import type { Logger } from 'pino';
import type { RateLimitConfig } from '../../config/types.js';
import { OncePerSecond } from '../../observe/once-per-second.js';
import { errorReply } from '../../pipeline/local-reply.js';
import { type LocalReply, type ResponseHead, setHeader, type Stage, type StageEnv, type StageFactory } from '../../pipeline/phase.js';
import type { RequestCtx, RequestState } from '../../pipeline/request-ctx.js';
import { InFlight } from './in-flight.js';
import { fingerprint, fingerprintWord, keyOf, limitSeed, parseKeyPart, type KeyPart } from './limit-key.js';
import { LocalGcra } from './local-gcra.js';
import { RedisGcra } from './redis-gcra.js';
import { SlotTable } from '../../shared/slot-table.js';

/**
 * `rate_limit:` on a route: a list of limits that must all pass (docs/rate-limits.md).
 * Evaluation order: local rate limits (synchronous, on the shared table), concurrency limits, then
 * cluster limits (one Redis round trip each). A request denied by any limit consumes nothing: what
 * the earlier limits took is given back.
 */
interface LimitPlan {
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

interface RateLimitPlan {
  readonly route: string;
  /** In evaluation order. */
  readonly limits: readonly LimitPlan[];
}

const DURATION = /^([0-9]+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const ORDER = { local: 0, in_flight: 1, cluster: 2 } as const;

export const rateLimitStage: StageFactory<RateLimitPlan> = {
  kind: 'rate_limit',
  compile(route, config, problems) {
    const list = route.rate_limit;
    if (list === undefined || list.length === 0) return null;
    const names = new Set<string>();
    const limits = list.map((l, i) => {
      if (names.has(l.name)) problems.report(['rate_limit', i, 'name'], `duplicate limit name "${l.name}" in this route`);
      names.add(l.name);
      return compileLimit(route.name, l, (field, message) => problems.report(['rate_limit', i, field], message), config.rate_limits.redis !== undefined);
    });
    return { route: route.name, limits: limits.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]) };
  },
  instantiate(plan, env) {
    return new RateLimitStage(plan, env);
  },
};

function compileLimit(route: string, l: RateLimitConfig, report: (field: string, message: string) => void, haveRedis: boolean): LimitPlan {
  const keyParts = (typeof l.key === 'string' ? [l.key] : l.key).map((k) => parseKeyPart(k)!);
  const base = {
    name: l.name, id: `${route}\0${l.name}`, key: keyParts, denyOnStoreError: l.on_store_error === 'deny',
    intervalNs: 0, toleranceNs: 0, burst: 0, maxInFlight: 0, policy: null,
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

/** What one request took, given back if a later limit denies, released when the exchange ends. */
class Taken {
  /** Per limit: the table slot taken, -1 when none. */
  readonly slots: Int32Array;
  /** Redis keys of cluster limits taken (for give-back). */
  redisKeys: string[] | null = null;
  /** The RateLimit header value so far. */
  header = '';

  constructor(n: number) {
    this.slots = new Int32Array(n).fill(-1);
  }
}

class RateLimitStage implements Stage {
  readonly name = 'rate_limit';
  private readonly local: LocalGcra[] = [];
  private readonly inFlight: InFlight[] = [];
  private readonly redis: RedisGcra | null = null;
  private readonly seeds: number[];
  private readonly policyHeader: string;
  private readonly hash = { hi: 0, lo: 0 };
  private readonly log: Logger;
  private readonly taken: RequestState<Taken>;
  private readonly denials = new OncePerSecond();
  private readonly storeFailures = new OncePerSecond();

  constructor(private readonly plan: RateLimitPlan, env: StageEnv) {
    this.log = env.log;
    this.taken = env.state<Taken>();
    const rateTable = new SlotTable(env.shared.rateTable);
    const inFlightTable = new SlotTable(env.shared.inFlightTable);
    for (const l of plan.limits) {
      this.local.push(new LocalGcra(rateTable, { interval: BigInt(l.intervalNs), tolerance: BigInt(l.toleranceNs) }));
      this.inFlight.push(new InFlight(inFlightTable, l.maxInFlight));
    }
    const redis = env.plan.rateLimits.redis;
    if (redis !== null && plan.limits.some((l) => l.kind === 'cluster')) {
      this.redis = env.keep(`redis ${redis.url} ${redis.timeoutMs} ${redis.keyPrefix}`,
        () => new RedisGcra(redis.url, redis.timeoutMs, redis.keyPrefix, env.log));
    }
    this.seeds = plan.limits.map((l) => limitSeed(env.shared.secret, plan.route, l.name));
    this.policyHeader = plan.limits.flatMap((l) => (l.policy === null ? [] : [l.policy])).join(', ');
  }

  onRequest(ctx: RequestCtx): LocalReply | null | Promise<LocalReply | null> {
    const limits = this.plan.limits;
    const taken = new Taken(limits.length);
    this.taken.set(ctx, taken);
    const now = process.hrtime.bigint();
    let i = 0;
    for (; i < limits.length; i++) {
      const l = limits[i];
      if (l.kind === 'cluster') break;
      fingerprint(this.seeds[i], keyOf(ctx, l.key), this.hash);
      const fp = fingerprintWord(this.hash.hi, this.hash.lo);
      if (l.kind === 'local') {
        const r = this.local[i].take(fp, this.hash.lo, now);
        if (r > 0) { taken.slots[i] = this.local[i].slot; this.addHeader(taken, l, r); continue; }
        if (r < 0 && Number.isFinite(r)) return this.deny(ctx, taken, i, -r);
      } else {
        const r = this.inFlight[i].acquire(fp, this.hash.lo);
        if (r === 1) { taken.slots[i] = this.inFlight[i].slot; continue; }
        if (r === 0) return this.deny(ctx, taken, i, 0);
      }
      // The table could not answer (full, or contended beyond reason): never silently.
      this.storeFailed(l, 'local rate-limit table full; raise rate_limits.table_slots');
      if (l.denyOnStoreError) return this.refuse(ctx, taken, i);
    }
    if (i === limits.length) return null;
    return this.takeCluster(ctx, taken, i);
  }

  /** The cluster limits, from `from` on: one Redis round trip each. */
  private async takeCluster(ctx: RequestCtx, taken: Taken, from: number): Promise<LocalReply | null> {
    const limits = this.plan.limits;
    const redis = this.redis!;
    for (let i = from; i < limits.length; i++) {
      const l = limits[i];
      const redisKey = redis.keyFor(l.id, keyOf(ctx, l.key));
      const r = await redis.take(redisKey, Math.round(l.intervalNs / 1000), Math.round(l.toleranceNs / 1000));
      if (r > 0) {
        (taken.redisKeys ??= []).push(redisKey);
        this.addHeader(taken, l, r);
        continue;
      }
      if (r <= 0) return this.deny(ctx, taken, i, -r);
      this.storeFailed(l, 'rate-limit store (Redis) did not answer');
      if (l.denyOnStoreError) return this.refuse(ctx, taken, i);
    }
    return null;
  }

  onResponse(ctx: RequestCtx, head: ResponseHead): void {
    if (this.policyHeader === '') return;
    const taken = this.taken.get(ctx);
    if (taken === undefined) return;
    setHeader(head, 'ratelimit-policy', this.policyHeader);
    if (taken.header !== '') setHeader(head, 'ratelimit', taken.header);
  }

  /** The exchange ended (answered, failed or aborted): release in-flight counts, exactly once. */
  onLog(ctx: RequestCtx): void {
    const taken = this.taken.get(ctx);
    if (taken === undefined) return;
    const limits = this.plan.limits;
    for (let i = 0; i < limits.length; i++) {
      if (limits[i].kind === 'in_flight' && taken.slots[i] !== -1) {
        this.inFlight[i].release(taken.slots[i]);
        taken.slots[i] = -1;
      }
    }
  }

  private addHeader(taken: Taken, l: LimitPlan, debtNs: number): void {
    if (l.policy === null) return;
    const remaining = Math.max(0, Math.floor((l.burst * l.intervalNs - debtNs) / l.intervalNs));
    const item = `"${l.name}";r=${remaining};t=${Math.ceil(debtNs / 1e9)}`;
    taken.header = taken.header === '' ? item : `${taken.header}, ${item}`;
  }

  /** Give back what the limits before `upTo` took: a denied request consumes nothing. */
  private giveBack(taken: Taken, upTo: number): void {
    const limits = this.plan.limits;
    let r = 0;
    for (let i = 0; i < upTo; i++) {
      const l = limits[i];
      if (l.kind === 'local' && taken.slots[i] !== -1) this.local[i].giveBack(taken.slots[i]);
      else if (l.kind === 'in_flight' && taken.slots[i] !== -1) this.inFlight[i].release(taken.slots[i]);
      else if (l.kind === 'cluster' && taken.redisKeys !== null && r < taken.redisKeys.length) this.redis!.giveBack(taken.redisKeys[r++], Math.round(l.intervalNs / 1000));
      taken.slots[i] = -1;
    }
  }

  private deny(ctx: RequestCtx, taken: Taken, i: number, waitNs: number): LocalReply {
    this.giveBack(taken, i);
    const l = this.plan.limits[i];
    const denied = this.denials.hit();
    if (denied > 0) this.log.info({ route: this.plan.route, limit: l.name, denied }, 'rate limit denying requests');
    if (l.kind === 'in_flight') return withHeaders(errorReply('SLUICE_ERR_TOO_MANY_IN_FLIGHT', ctx.id), [['retry-after', '1']]);
    const retryAfter = String(Math.max(1, Math.ceil(waitNs / 1e9)));
    const headers: [string, string][] = [['retry-after', retryAfter]];
    if (l.policy !== null) headers.push(['ratelimit-policy', l.policy], ['ratelimit', `"${l.name}";r=0;t=${retryAfter}`]);
    return withHeaders(errorReply('SLUICE_ERR_RATE_LIMITED', ctx.id), headers);
  }

  private refuse(ctx: RequestCtx, taken: Taken, i: number): LocalReply {
    this.giveBack(taken, i);
    return withHeaders(errorReply('SLUICE_ERR_RATE_LIMIT_STORE', ctx.id), [['retry-after', '1']]);
  }

  private storeFailed(l: LimitPlan, message: string): void {
    const failures = this.storeFailures.hit();
    if (failures === 0) return;
    this.log.warn({ code: 'SLUICE_ERR_RATE_LIMIT_STORE', route: this.plan.route, limit: l.name, failures,
      then: l.denyOnStoreError ? 'deny' : 'allow' }, message);
  }
}

function withHeaders(reply: LocalReply, extra: readonly (readonly [string, string])[]): LocalReply {
  return { ...reply, headers: [...(reply.headers ?? []), ...extra] };
}
