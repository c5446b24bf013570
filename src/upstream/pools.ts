import { isIP } from 'node:net';
import { type ConnectionOptions, createSecureContext } from 'node:tls';
import type { CompiledPlan, EndpointPlan, UpstreamPlan, UpstreamTlsPlan } from '../compile/plan.js';
import { readSeries, type SeriesSnapshot } from '../observe/worker-metrics.js';
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

  /** Connections (idle, busy) and queued tries per endpoint, summed over this worker's current pools. */
  gauges(): SeriesSnapshot[] {
    const by = new Map<string, { open: number; idle: number; queued: number }>();
    for (const [key, pool] of this.pools) {
      const origin = key.slice(0, key.indexOf('|'));
      const c = pool.counts;
      const sum = by.get(origin);
      if (sum === undefined) by.set(origin, c);
      else by.set(origin, { open: sum.open + c.open, idle: sum.idle + c.idle, queued: sum.queued + c.queued });
    }
    return [...by].flatMap(([origin, c]) => [
      readSeries('poolConnections', [origin, 'idle'], c.idle),
      readSeries('poolConnections', [origin, 'busy'], c.open - c.idle),
      readSeries('poolQueued', [origin], c.queued),
    ]);
  }

  /** The worker is done draining: whatever is still open was abandoned. */
  closeAll(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools = new Map();
  }
}

export function poolKey(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): string {
  const t = plan.timeouts;
  return `${e.origin}|${u.pool.connections}|${u.pool.pipelining}|${u.pool.keepAliveMs}|${t.connectMs}|${t.responseHeaderMs}|${t.idleMs}|${plan.limits.upstreamHeaderBytes}|${plan.limits.upstreamHeaderCount}|${u.tls?.id ?? ''}`;
}

function createPool(u: UpstreamPlan, e: EndpointPlan, plan: CompiledPlan): Http1Pool {
  const url = new URL(e.origin);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  return new Http1Pool(
    {
      host,
      port,
      tls: https ? tlsOptions(host, port, u.tls) : null,
      pipelining: u.pool.pipelining,
      keepAliveMs: u.pool.keepAliveMs,
      connectMs: plan.timeouts.connectMs,
      headersMs: plan.timeouts.responseHeaderMs,
      idleMs: plan.timeouts.idleMs,
      maxHeadBytes: plan.limits.upstreamHeaderBytes,
      maxHeadLines: plan.limits.upstreamHeaderCount,
    },
    u.pool.connections,
  );
}

/**
 * One endpoint's tls.connect options. The secure context (trusted CAs, client certificate) is built
 * here once per pool from PEM text the primary read, so opening a connection parses nothing.
 */
function tlsOptions(host: string, port: number, t: UpstreamTlsPlan | null): ConnectionOptions {
  const servername = t?.servername ?? (isIP(host) === 0 ? host : undefined);
  const base: ConnectionOptions = { host, port, servername, ALPNProtocols: ['http/1.1'] };
  if (t === null) return base;
  // id is filled in with the files' PEM text by the primary: an empty one would mean "trust the
  // system roots" where the config named a private CA, so it must never reach a pool.
  if (t.id === '') throw new Error('upstream tls: the plan reached a worker before its files were read');
  const secureContext =
    t.ca === null && t.cert === null ? undefined : createSecureContext({ ca: t.ca ?? undefined, cert: t.cert ?? undefined, key: t.key ?? undefined });
  return { ...base, secureContext, rejectUnauthorized: t.verify };
}
