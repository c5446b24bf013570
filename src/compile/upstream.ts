import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { UpstreamConfig } from '../config/types.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';
import type { DiscoveryPlan, EndpointPlan, HashOnPlan, UpstreamPlan, UpstreamTlsPlan } from './plan.js';

/** One upstream's config → plan. Endpoint and upstream rows are assigned later, by the primary. */
export function compileUpstream(name: string, u: UpstreamConfig, configDir: string, problems: SchemaProblem[]): UpstreamPlan {
  const at = (...rest: (string | number)[]): ConfigPath => ['upstreams', name, ...rest];
  const discovery = compileDiscovery(u, at, problems);
  const endpoints = (u.endpoints ?? []).map((e, i) => {
    const parsed = parseEndpointUrl(e.url, e.weight);
    if (typeof parsed === 'string') problems.push({ path: at('endpoints', i, 'url'), message: parsed });
    return typeof parsed === 'string' ? { origin: '', hostHeader: '', weight: 0, row: -1 } : parsed;
  });
  if (u.balance === 'hash' && u.hash_on === undefined)
    problems.push({ path: at('hash_on'), message: 'balance: hash needs hash_on (ip, header:NAME, cookie:NAME or query:NAME)' });
  if (u.balance !== 'hash' && u.hash_on !== undefined) problems.push({ path: at('hash_on'), message: 'hash_on is only used with balance: hash' });
  const p = u.health.passive;
  if (p.max_eject_ms < p.eject_ms) problems.push({ path: at('health', 'passive', 'max_eject_ms'), message: 'must be at least eject_ms' });
  const a = u.health.active;
  if (a !== undefined && a.timeout_ms > a.interval_ms) problems.push({ path: at('health', 'active', 'timeout_ms'), message: 'must not exceed interval_ms' });
  const b = u.circuit_breaker;
  return {
    name,
    endpoints,
    discovery,
    row: -1,
    balance: u.balance,
    hashOn: u.hash_on === undefined ? null : compileHashOn(u.hash_on),
    active:
      a === undefined
        ? null
        : {
            path: a.path,
            intervalMs: a.interval_ms,
            timeoutMs: a.timeout_ms,
            healthy: a.healthy,
            unhealthy: a.unhealthy,
            expectStatus: a.expect_status === undefined ? null : [...a.expect_status],
          },
    passive: { consecutiveFailures: p.consecutive_failures, ejectMs: p.eject_ms, maxEjectMs: p.max_eject_ms, maxEjectedPercent: p.max_ejected_percent },
    panicThreshold: u.health.panic_threshold,
    breaker:
      b === undefined
        ? null
        : {
            failureRatio: b.failure_ratio,
            minRequests: b.min_requests,
            windowMs: b.window_ms,
            openMs: b.open_ms,
            halfOpenRequests: b.half_open_requests,
          },
    maxRequests: u.max_requests ?? -1,
    maxPending: u.max_pending ?? -1,
    retryBudget: { ratio: u.retry_budget.ratio, minPerS: u.retry_budget.min_per_s },
    pool: { connections: u.pool.connections, pipelining: u.pool.pipelining, keepAliveMs: u.pool.keepalive_ms },
    tls: compileUpstreamTls(u, endpoints, configDir, at, problems),
  };
}

function compileUpstreamTls(
  u: UpstreamConfig,
  endpoints: readonly EndpointPlan[],
  configDir: string,
  at: (...rest: (string | number)[]) => ConfigPath,
  problems: SchemaProblem[],
): UpstreamTlsPlan | null {
  const t = u.tls;
  if (t === undefined) return null;
  if ((t.cert === undefined) !== (t.key === undefined)) problems.push({ path: at('tls'), message: 'cert and key go together: set both or neither' });
  const plain = u.discovery?.dns?.scheme === 'http' || (endpoints.length > 0 && endpoints.every((e) => e.origin.startsWith('http:')));
  if (plain) problems.push({ path: at('tls'), message: 'tls: applies to https:// endpoints, and this upstream has none' });
  if (t.servername !== undefined && isIP(t.servername) !== 0)
    problems.push({ path: at('tls', 'servername'), message: 'SNI carries a host name, not an address (RFC 6066): leave servername out to reach an address' });
  const file = (f: string | undefined) => (f === undefined ? null : resolve(configDir, f));
  return {
    caFile: file(t.ca),
    certFile: file(t.cert),
    keyFile: file(t.key),
    ca: null,
    cert: null,
    key: null,
    servername: t.servername ?? null,
    verify: t.verify,
    id: '',
  };
}

/** A message when `raw` is not a usable endpoint URL (used for config and for discovered values). */
export function parseEndpointUrl(raw: string, weight: number): EndpointPlan | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${JSON.stringify(raw)} is not a URL; write http://host:port`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme must be http or https';
  if (url.username || url.password) return 'credentials in endpoint URLs are not supported';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return 'an endpoint is host:port only; put path changes in a route rewrite:';
  return { origin: url.origin, hostHeader: url.host, weight, row: -1 };
}

function compileDiscovery(u: UpstreamConfig, at: (...rest: (string | number)[]) => ConfigPath, problems: SchemaProblem[]): DiscoveryPlan {
  const d = u.discovery;
  const sources = (u.endpoints === undefined ? 0 : 1) + (d?.dns === undefined ? 0 : 1) + (d?.etcd === undefined ? 0 : 1);
  if (sources !== 1) problems.push({ path: at(), message: 'set exactly one of endpoints, discovery.dns or discovery.etcd' });
  if (d?.dns !== undefined) {
    const n = d.dns;
    return {
      kind: 'dns',
      name: n.name,
      port: n.port,
      scheme: n.scheme,
      family: n.family,
      intervalMs: n.interval_ms,
      servers: n.servers === undefined ? null : [...n.servers],
    };
  }
  if (d?.etcd !== undefined) return { kind: 'etcd', endpoints: [...d.etcd.endpoints], prefix: d.etcd.prefix, timeoutMs: d.etcd.timeout_ms };
  return { kind: 'static' };
}

function compileHashOn(spec: string): HashOnPlan {
  if (spec === 'ip') return { kind: 'ip' };
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon) as 'header' | 'cookie' | 'query';
  const name = spec.slice(colon + 1);
  return { kind, name: kind === 'header' ? name.toLowerCase() : name };
}
