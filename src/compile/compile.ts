import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import type { SchemaProblem } from '../config/validate.js';
import { type CidrSet, compileCidrs, EMPTY_CIDRS } from '../http/cidr.js';
import { compilePathPolicy } from '../router/path-policy.js';
import { stageRegistry } from '../stages/registry.js';
import { compileAdmin } from './admin.js';
import { compileListeners } from './listener.js';
import { compileLog } from './log.js';
import type { CompiledPlan } from './plan.js';
import { compileRoute } from './route.js';
import { compileTracing } from './tracing.js';
import { compileUpstream } from './upstream.js';

/**
 * GatewayConfig → CompiledPlan. Pure: runs in the primary, reports cross-field problems with their
 * config path (load.ts adds line:col), and returns plain data for the workers.
 */
export function compile(cfg: GatewayConfig, file: string, generation: number): { plan: CompiledPlan } | { problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const stageSettings = compileStageSettings(cfg, problems);
  const admin = compileAdmin(cfg.admin, file, problems);
  const trustedProxies = compileTrustedProxies(cfg.trusted_proxies, problems);
  const listeners = compileListeners(cfg.listen, file, problems);
  const upstreamNames = Object.keys(cfg.upstreams);
  const upstreams = upstreamNames.map((name) => compileUpstream(name, cfg.upstreams[name], dirname(file), problems));
  const pathPolicy = compilePathPolicy(cfg.limits.path);
  const seen = new Map<string, number>();
  const routes = cfg.routes.map((r, i) => {
    const earlier = seen.get(r.name);
    if (earlier !== undefined) problems.push({ path: ['routes', i, 'name'], message: `duplicate route name "${r.name}" (first used by routes[${earlier}])` });
    seen.set(r.name, i);
    return compileRoute(r, i, stageSettings, upstreamNames, dirname(file), pathPolicy, problems);
  });
  if (problems.length > 0) return { problems };
  return {
    plan: {
      generation,
      file,
      listeners,
      admin,
      workers: cfg.workers === 'auto' ? availableParallelism() : cfg.workers,
      limits: {
        maxHeaderBytes: cfg.limits.max_header_bytes,
        maxHeaderCount: cfg.limits.max_header_count,
        maxBodyBytes: cfg.limits.max_body_bytes,
        allowChunkedRequests: cfg.limits.allow_chunked_requests,
        path: pathPolicy,
        upstreamHeaderBytes: cfg.limits.upstream_header_bytes,
        upstreamHeaderCount: cfg.limits.upstream_header_count,
      },
      timeouts: {
        connectMs: cfg.timeouts.connect_ms,
        responseHeaderMs: cfg.timeouts.response_header_ms,
        idleMs: cfg.timeouts.idle_ms,
        clientBodyMs: cfg.timeouts.client_body_ms,
        drainMs: cfg.timeouts.drain_ms,
      },
      log: compileLog(cfg.log),
      metrics: { enabled: cfg.metrics.enabled },
      tracing: compileTracing(cfg.tracing),
      trustedProxies,
      stageSettings,
      upstreams,
      routes,
    },
  };
}

/** Each stage's top-level settings (validated and defaulted by its schema), compiled. */
function compileStageSettings(cfg: GatewayConfig, problems: SchemaProblem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of stageRegistry) {
    if (f.settings === undefined) continue;
    const key = f.settings.key;
    out[f.kind] = f.settings.compile((cfg as Record<string, unknown>)[key], { report: (rel, message) => problems.push({ path: [key, ...rel], message }) });
  }
  return out;
}

function compileTrustedProxies(list: readonly string[], problems: SchemaProblem[]): CidrSet {
  const set = compileCidrs(list);
  if ('v4' in set) return set;
  problems.push({ path: ['trusted_proxies', set.index], message: set.message });
  return EMPTY_CIDRS;
}
