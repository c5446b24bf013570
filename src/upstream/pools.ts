import type { CompiledPlan, EndpointPlan, UpstreamPlan } from '../compile/plan.js';
import { Http1Pool } from './http1/pool.js';

/**
 * This worker's connection pools (http1/pool.ts), one per endpoint and pool setting. Pools outlive config generations:
 * a reload that keeps an endpoint keeps its warm connections; pools no generation uses any more
 * are closed gracefully (their in-flight requests finish first).
 */
export class PoolSet {
  private pools = new Map<string, Http1Pool>();

  /** Pools for every endpoint of `plan`, reusing current ones where the settings are unchanged. */
  adopt(plan: CompiledPlan): Map<string, Http1Pool> {
    const next = new Map<string, Http1Pool>();
    for (const u of plan.upstreams) {
      for (const e of u.endpoints) {
        const key = poolKey(u, e, plan);
        if (next.has(key)) continue;
        next.set(key, this.pools.get(key) ?? createPool(u, e, plan));
      }
    }
    const retired = [...this.pools].filter(([key]) => !next.has(key)).map(([, pool]) => pool);
    this.pools = next;
    for (const pool of retired) void pool.close();
    return next;
  }

  /**
   * A current pool to `origin`, for a request still running on an older generation whose own pool was
   * retired (a reload changed pool settings): its next try uses the new pool instead of failing.
   */
  forOrigin(origin: string): Http1Pool | undefined {
    for (const [key, pool] of this.pools) if (key.startsWith(origin + '|')) return pool;
    return undefined;
  }

  /** The worker is done draining: whatever is still open was abandoned. */
  closeAll(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools = new Map();
  }
}

export function poolKey(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): string {
  const t = plan.timeouts;
  return `${e.origin}|${u.pool.connections}|${u.pool.pipelining}|${u.pool.keepAliveMs}|${t.connectMs}|${t.responseHeaderMs}|${t.idleMs}`;
}

function createPool(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): Http1Pool {
  const url = new URL(e.origin);
  const tls = url.protocol === 'https:';
  return new Http1Pool(
    {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      tls,
      pipelining: u.pool.pipelining,
      keepAliveMs: u.pool.keepAliveMs,
      connectMs: plan.timeouts.connectMs,
      headersMs: plan.timeouts.responseHeaderMs,
      idleMs: plan.timeouts.idleMs,
    },
    u.pool.connections,
  );
}
