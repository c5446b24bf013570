import { Pool } from 'undici';
import type { CompiledPlan, EndpointPlan, UpstreamPlan } from '../compile/plan.js';

/**
 * This worker's undici pools, one per endpoint and pool setting. Pools outlive config generations:
 * a reload that keeps an endpoint keeps its warm connections; pools no generation uses any more
 * are closed gracefully (their in-flight requests finish first).
 */
export class PoolSet {
  private pools = new Map<string, Pool>();

  /** Pools for every endpoint of `plan`, reusing current ones where the settings are unchanged. */
  adopt(plan: CompiledPlan): Map<string, Pool> {
    const next = new Map<string, Pool>();
    for (const u of plan.upstreams) {
      for (const e of u.endpoints) {
        const key = poolKey(u, e, plan);
        if (next.has(key)) continue;
        next.set(key, this.pools.get(key) ?? createPool(u, e, plan));
      }
    }
    const retired = [...this.pools].filter(([key]) => !next.has(key)).map(([, pool]) => pool);
    this.pools = next;
    for (const pool of retired) void pool.close().catch(() => {});
    return next;
  }

  /**
   * A current pool to `origin`, for a request still running on an older generation whose own pool was
   * retired (a reload changed pool settings): its next try uses the new pool instead of failing.
   */
  forOrigin(origin: string): Pool | undefined {
    for (const [key, pool] of this.pools) if (key.startsWith(origin + '|')) return pool;
    return undefined;
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools = new Map();
    await Promise.all(all.map((p) => p.close().catch(() => p.destroy())));
  }
}

export function poolKey(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): string {
  const t = plan.timeouts;
  return `${e.origin}|${u.pool.connections}|${u.pool.pipelining}|${u.pool.keepAliveMs}|${t.connectMs}|${t.responseHeaderMs}|${t.idleMs}`;
}

function createPool(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): Pool {
  return new Pool(e.origin, {
    connections: u.pool.connections,
    pipelining: u.pool.pipelining,
    keepAliveTimeout: u.pool.keepAliveMs,
    keepAliveMaxTimeout: Math.max(u.pool.keepAliveMs, 600_000),
    headersTimeout: plan.timeouts.responseHeaderMs,
    bodyTimeout: plan.timeouts.idleMs,
    connect: { timeout: plan.timeouts.connectMs },
    // Our own copy of the request head is already bounded by limits.max_header_bytes.
    maxHeaderSize: 64 * 1024,
    strictContentLength: true,
  });
}
