import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { UpstreamPlan } from '../compile/plan.js';
import { OncePerSecond } from '../observe/once-per-second.js';
import type { EndpointMetrics, UpstreamMetrics } from '../observe/worker-metrics.js';
import type { RequestCtx } from '../pipeline/request-ctx.js';
import { msAt } from '../shared/clock.js';
import type { EndpointHealth } from '../shared/endpoint-health.js';
import { BREAKER_STATES, CLOSED, OPEN, type UpstreamTable } from '../shared/upstream-table.js';
import type { Balancer, Candidates } from './balancers/balancer.js';
import { createBalancer } from './balancers/create.js';
import type { Http1Pool } from './http1/pool.js';
import type { PoolSet } from './pools.js';

/** select() found nothing: every endpoint is unhealthy (or drained), or the healthy ones are full (max_pending). */
export const NONE_HEALTHY = -1;
export const ALL_FULL = -2;

/**
 * One upstream as a worker sees it for one config generation: its endpoints' pools, the balancer,
 * this worker's in-flight counts, and views of the shared health and upstream tables. It is the
 * balancer's Candidates: usable() is where health, drain, retries and max_pending meet.
 */
export class UpstreamRuntime implements Candidates {
  readonly count: number;
  readonly rows: readonly number[];
  /** Rows of endpoints with weight > 0: what max_ejected_percent is a share of. */
  private readonly inService: readonly number[];
  private readonly balancer: Balancer;
  private readonly inFlightCount: Int32Array;
  /** In flight per endpoint and worker beyond which it is full (connections × pipelining + max_pending). */
  private readonly capacity: number;
  private readonly budgetRefusals = new OncePerSecond();
  /** Same order as plan.endpoints; empty when metrics are off. */
  private readonly endpointMetrics: readonly EndpointMetrics[];
  // Per-pick scratch: one pick runs at a time on a thread.
  private tried = 0;
  private now = 0;
  private panic = false;

  constructor(
    readonly plan: UpstreamPlan,
    /** Same order as plan.endpoints. */
    private readonly pools: readonly Http1Pool[],
    private readonly poolSet: PoolSet,
    readonly health: EndpointHealth,
    readonly table: UpstreamTable,
    readonly log: Logger,
    /** null: metrics are off (metrics.enabled: false). */
    private readonly metrics: UpstreamMetrics | null,
  ) {
    this.count = plan.endpoints.length;
    this.endpointMetrics = metrics === null ? [] : plan.endpoints.map((e) => metrics.endpoint(e.origin));
    this.rows = plan.endpoints.map((e) => e.row);
    this.inService = plan.endpoints.filter((e) => e.weight > 0).map((e) => e.row);
    this.balancer = createBalancer(plan);
    this.inFlightCount = new Int32Array(this.count);
    this.capacity = plan.maxPending < 0 ? Infinity : plan.pool.connections * plan.pool.pipelining + plan.maxPending;
  }

  usable(i: number): boolean {
    return (
      (this.tried & (1 << (i & 31))) === 0 &&
      this.plan.endpoints[i].weight > 0 &&
      this.inFlightCount[i] < this.capacity &&
      (this.panic || this.health.isHealthy(this.rows[i], this.now)) &&
      this.pool(i) !== undefined
    );
  }

  /**
   * The pool for endpoint i. After a reload or discovery change this runtime may be an old generation's
   * (a request in flight across it); a retired pool is closed, so use the current one for the same
   * endpoint, or none when the endpoint is gone.
   */
  pool(i: number): Http1Pool | undefined {
    const own = this.pools[i];
    return own.closed ? this.poolSet.forOrigin(this.plan.endpoints[i].origin) : own;
  }

  weight(i: number): number {
    return this.plan.endpoints[i].weight;
  }

  inFlight(i: number): number {
    return this.inFlightCount[i];
  }

  /**
   * The endpoint for this request's next try, or NONE_HEALTHY / ALL_FULL. Endpoints in `tried` (a
   * bitmask of indexes mod 32) are avoided while another one is usable, and never picked again when
   * `untriedOnly` (a retry after a connect timeout: the same endpoint would cost connect_ms again).
   * Above 32 endpoints the mask cannot tell endpoint 32 from endpoint 0, so `untriedOnly` is not exact
   * there and is dropped: a retry may go back to a tried endpoint, but never fails for want of one.
   */
  select(ctx: RequestCtx, tried: number, now: number, untriedOnly = false): number {
    this.lookAt(tried, now);
    let i = this.balancer.pick(this, ctx);
    if (i === -1 && tried !== 0 && (!untriedOnly || this.count > 32)) {
      this.tried = 0;
      i = this.balancer.pick(this, ctx);
    }
    if (i !== -1) this.inFlightCount[i]++;
    else if (this.anyHealthy(now)) i = ALL_FULL;
    else i = NONE_HEALTHY;
    return i;
  }

  /** What usable() reads: the time, whether the upstream is in panic, the request's tried endpoints. */
  private lookAt(tried: number, now: number): void {
    this.now = now;
    this.panic = this.plan.panicThreshold > 0 && this.healthyPercent(now) < this.plan.panicThreshold;
    this.tried = tried;
  }

  /** A try to endpoint i ended, whatever its outcome. */
  tryEnded(i: number): void {
    this.inFlightCount[i]--;
  }

  /**
   * The verdict on a try, once its response head arrived or it failed before one: failed (connect
   * error, reset, timeout, 5xx) or not. Feeds the breaker and the balancer; a failure also counts for
   * passive health, while a success counts there only when the body completes (passiveSuccess), so
   * responses that break mid-body can still eject an endpoint. `startedAt`: performance.now() as the
   * try started.
   */
  tryOutcome(i: number, failed: boolean, probe: boolean, startedAt: number): void {
    const b = this.plan.breaker;
    const m = this.metrics;
    // Hot path: with metrics off, a success with no breaker and a balancer that ignores latency reads no clock.
    const quiet = !failed && b === null && this.balancer.observe === undefined;
    if (quiet && m === null) return;
    const t = performance.now();
    if (m !== null) {
      const e = this.endpointMetrics[i];
      (failed ? e.failed : e.ok).value++;
      m.tryDuration.record(t - startedAt);
      if (quiet) return;
    }
    this.balancer.observe?.(i, t - startedAt, failed);
    const now = msAt(t);
    if (failed) this.passiveFailure(i, now);
    if (b === null) return;
    const moved = this.table.record(this.plan.row, now, b, failed, probe);
    if (moved !== -1) {
      const line = { upstream: this.plan.name, circuit: BREAKER_STATES[moved] };
      if (moved === CLOSED) this.log.info(line, 'circuit closed');
      else this.log.warn({ ...line, open_ms: b.openMs, code: 'SLUICE_ERR_CIRCUIT_OPEN' }, 'circuit opened');
    }
  }

  /** A try to endpoint i was sent again on a new connection (LegTry.onResend). */
  countResend(i: number): void {
    if (this.metrics !== null) this.endpointMetrics[i].resends.value++;
  }

  /** A response below 500 was received whole. */
  passiveSuccess(i: number): void {
    this.health.recordSuccess(this.rows[i], this.plan.passive, this.plan.row);
  }

  passiveFailure(i: number, now: number): void {
    const ejectedFor = this.health.recordFailure(this.rows[i], now, this.plan.passive, this.inService, this.plan.row);
    if (ejectedFor === 0) return;
    if (this.metrics !== null) this.endpointMetrics[i].ejections.value++;
    const endpoint = this.plan.endpoints[i].origin;
    this.log.warn(
      { upstream: this.plan.name, endpoint, eject_ms: ejectedFor, code: 'SLUICE_ERR_NO_HEALTHY_UPSTREAM' },
      'endpoint ejected after consecutive failures',
    );
  }

  /** Take a retry from the shared budget; refusals are logged at most once a second per worker. */
  takeRetry(now: number): boolean {
    const b = this.plan.retryBudget;
    if (this.table.takeRetry(this.plan.row, now, b.ratio, b.minPerS)) return true;
    if (this.metrics !== null) this.metrics.budgetRefusals.value++;
    const refused = this.budgetRefusals.hit();
    if (refused > 0)
      this.log.warn({ upstream: this.plan.name, refused, ratio: b.ratio, min_per_s: b.minPerS }, 'retry budget exhausted; failed tries answered without retry');
    return false;
  }

  /**
   * Whether some endpoint outside `tried` (a bitmask of indexes mod 32) could take a try now; always
   * true above 32 endpoints, where the mask is not exact (select's `untriedOnly`).
   */
  anyUntried(tried: number, now: number): boolean {
    if (this.count > 32) return true;
    this.lookAt(tried, now);
    for (let i = 0; i < this.count; i++) if (this.usable(i)) return true;
    return false;
  }

  /** Whether a retry could go anywhere now: the breaker is not open and some endpoint is healthy. */
  retryPossible(now: number): boolean {
    if (this.plan.breaker !== null && this.table.breakerState(this.plan.row) === OPEN) return false;
    return this.anyHealthy(now);
  }

  private healthyPercent(now: number): number {
    let total = 0;
    let healthy = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.plan.endpoints[i].weight === 0) continue;
      total++;
      if (this.health.isHealthy(this.rows[i], now)) healthy++;
    }
    return total === 0 ? 100 : (healthy * 100) / total;
  }

  private anyHealthy(now: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (this.plan.endpoints[i].weight > 0 && (this.panic || this.health.isHealthy(this.rows[i], now)) && this.pool(i) !== undefined) return true;
    }
    return false;
  }
}
