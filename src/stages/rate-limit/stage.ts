import type { Logger } from 'pino';
import { OncePerSecond } from '../../observe/once-per-second.js';
import type { Counter } from '../../observe/worker-metrics.js';
import { errorReply } from '../../pipeline/local-reply.js';
import { type LocalReply, type ResponseHead, type Stage, setHeader } from '../../pipeline/phase.js';
import type { RequestCtx, RequestState } from '../../pipeline/request-ctx.js';
import type { StageEnv } from '../../pipeline/stage-factory.js';
import { SlotTable } from '../../shared/slot-table.js';
import type { LimitPlan, RateLimitPlan, RateLimitSettings } from './compile.js';
import { InFlight } from './in-flight.js';
import { fingerprint, fingerprintWord, keyOf, limitSeed } from './limit-key.js';
import { LocalGcra } from './local-gcra.js';
import { RedisGcra } from './redis-gcra.js';

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

/**
 * A route's limits in one worker. Evaluation order: local rate limits (synchronous, on the shared
 * table), concurrency limits, then cluster limits (one Redis round trip each). A request denied by
 * any limit consumes nothing: what the earlier limits took is given back.
 */
export class RateLimitStage implements Stage {
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
  /** Per limit: sluice_rate_limit_decisions_total{decision=allowed|denied|store_error}. */
  private readonly allowed: Counter[];
  private readonly denied: Counter[];
  private readonly storeErrors: Counter[];

  constructor(
    private readonly plan: RateLimitPlan,
    env: StageEnv<RateLimitSettings>,
  ) {
    this.log = env.log;
    this.taken = env.state<Taken>();
    const rateTable = new SlotTable(env.tables.rate);
    const inFlightTable = new SlotTable(env.tables.inFlight);
    for (const l of plan.limits) {
      this.local.push(new LocalGcra(rateTable, { interval: BigInt(l.intervalNs), tolerance: BigInt(l.toleranceNs) }));
      this.inFlight.push(new InFlight(inFlightTable, l.maxInFlight));
    }
    const redis = env.settings.redis;
    if (redis !== null && plan.limits.some((l) => l.kind === 'cluster')) {
      this.redis = env.keep(
        `redis ${redis.url} ${redis.timeoutMs} ${redis.keyPrefix}`,
        () => new RedisGcra(redis.url, redis.timeoutMs, redis.keyPrefix, env.log),
      );
    }
    this.seeds = plan.limits.map((l) => limitSeed(env.secret, plan.route, l.name));
    const decisions = (decision: string) => plan.limits.map((l) => env.counter('rateLimit', [plan.route, l.name, decision]));
    this.allowed = decisions('allowed');
    this.denied = decisions('denied');
    this.storeErrors = decisions('store_error');
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
        if (r > 0) {
          taken.slots[i] = this.local[i].slot;
          this.addHeader(taken, l, r);
          this.allowed[i].value++;
          continue;
        }
        if (r < 0 && Number.isFinite(r)) return this.deny(ctx, taken, i, -r);
      } else {
        const r = this.inFlight[i].acquire(fp, this.hash.lo);
        if (r === 1) {
          taken.slots[i] = this.inFlight[i].slot;
          this.allowed[i].value++;
          continue;
        }
        if (r === 0) return this.deny(ctx, taken, i, 0);
      }
      // The table could not answer (full, or contended beyond reason): never silently.
      this.storeErrors[i].value++;
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
        this.allowed[i].value++;
        continue;
      }
      if (r <= 0) return this.deny(ctx, taken, i, -r);
      this.storeErrors[i].value++;
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
      else if (l.kind === 'cluster' && taken.redisKeys !== null && r < taken.redisKeys.length)
        this.redis!.giveBack(taken.redisKeys[r++], Math.round(l.intervalNs / 1000));
      taken.slots[i] = -1;
    }
  }

  private deny(ctx: RequestCtx, taken: Taken, i: number, waitNs: number): LocalReply {
    this.giveBack(taken, i);
    const l = this.plan.limits[i];
    this.denied[i].value++;
    const denied = this.denials.hit();
    if (denied > 0) this.log.info({ route: this.plan.route, limit: l.name, denied }, 'rate limit denying requests');
    if (l.kind === 'in_flight') return withHeaders(errorReply('SLUICE_ERR_TOO_MANY_IN_FLIGHT', ctx), [['retry-after', '1']]);
    const retryAfter = String(Math.max(1, Math.ceil(waitNs / 1e9)));
    const headers: [string, string][] = [['retry-after', retryAfter]];
    if (l.policy !== null) headers.push(['ratelimit-policy', l.policy], ['ratelimit', `"${l.name}";r=0;t=${retryAfter}`]);
    return withHeaders(errorReply('SLUICE_ERR_RATE_LIMITED', ctx), headers);
  }

  private refuse(ctx: RequestCtx, taken: Taken, i: number): LocalReply {
    this.giveBack(taken, i);
    return withHeaders(errorReply('SLUICE_ERR_RATE_LIMIT_STORE', ctx), [['retry-after', '1']]);
  }

  private storeFailed(l: LimitPlan, message: string): void {
    const failures = this.storeFailures.hit();
    if (failures === 0) return;
    this.log.warn(
      {
        code: 'SLUICE_ERR_RATE_LIMIT_STORE',
        route: this.plan.route,
        limit: l.name,
        failures,
        // biome-ignore lint/suspicious/noThenProperty: a log field (what the limit does while the store is down), never awaited
        then: l.denyOnStoreError ? 'deny' : 'allow',
      },
      message,
    );
  }
}

function withHeaders(reply: LocalReply, extra: readonly (readonly [string, string])[]): LocalReply {
  return { ...reply, headers: [...(reply.headers ?? []), ...extra] };
}
