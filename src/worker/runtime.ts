import type { Logger } from 'pino';
import { type CompiledPlan, planNames, type RoutePlan } from '../compile/plan.js';
import { type AccessFormat, accessFormat } from '../observe/access-fields.js';
import type { AccessLog } from '../observe/access-log.js';
import { OtlpExporter } from '../observe/otlp-exporter.js';
import type { RouteMetrics, WorkerMetrics } from '../observe/worker-metrics.js';
import { RequestState } from '../pipeline/request-ctx.js';
import { type RouteRuntime, routeRuntime } from '../pipeline/route-runtime.js';
import { Router } from '../router/router.js';
import type { EndpointHealth } from '../shared/endpoint-health.js';
import type { SharedState } from '../shared/shared-state.js';
import type { UpstreamTable } from '../shared/upstream-table.js';
import { stageFactory } from '../stages/registry.js';
import { type PoolSet, poolKey } from '../upstream/pools.js';
import { RouteUpstream } from '../upstream/route-upstream.js';
import { UpstreamRuntime } from '../upstream/upstream-runtime.js';
import type { KeptResources } from './kept-resources.js';
import type { ServiceViews } from './service-views.js';

/** What a worker runs for one config generation; in-flight requests keep the one they started on. */
export interface Runtime {
  readonly plan: CompiledPlan;
  readonly router: Router<RouteRuntime>;
  readonly log: Logger;
  readonly access: AccessLog;
  /** What this generation's access lines carry, and which are written (log.access, log.level, log.mask). */
  readonly accessFormat: AccessFormat;
  /** The series of requests no route matched (route=""); null when metrics are off. */
  readonly unmatched: RouteMetrics | null;
  /** Where sampled requests' spans go (tracing.otlp), kept across generations with the same target; null: none. */
  readonly exporter: OtlpExporter | null;
}

/** What a worker owns for its whole life, across config generations. */
export interface WorkerServices {
  readonly pools: PoolSet;
  readonly log: Logger;
  readonly access: AccessLog;
  readonly shared: SharedState;
  readonly kept: KeptResources;
  readonly health: EndpointHealth;
  readonly upstreamTable: UpstreamTable;
  readonly serviceViews: ServiceViews;
  readonly metrics: WorkerMetrics;
}

export function buildRuntime(plan: CompiledPlan, services: WorkerServices): Runtime {
  const { log, access } = services;
  const metrics = plan.metrics.enabled ? services.metrics : null;
  services.metrics.forgetAllBut(planNames(plan));
  const pools = services.pools.adopt(plan);
  const upstreams = plan.upstreams.map(
    (u) =>
      new UpstreamRuntime(
        u,
        u.endpoints.map((e) => pools.get(poolKey(u, e, plan))!),
        services.pools,
        services.health,
        services.upstreamTable,
        log,
        metrics === null ? null : metrics.upstream(u.name),
      ),
  );
  const routes = plan.routes.map((r) => ({ plan: r, route: buildRoute(r, plan, upstreams, services) }));
  const level = log.levels.values[plan.log.level] ?? 30;
  return {
    plan,
    router: new Router(routes),
    log,
    access,
    accessFormat: accessFormat(plan.log, level <= log.levels.values.info, level <= log.levels.values.warn),
    unmatched: metrics === null ? null : metrics.route(''),
    exporter: spanExporter(plan, services),
  };
}

function buildRoute(plan: RoutePlan, compiled: CompiledPlan, upstreams: UpstreamRuntime[], services: WorkerServices): RouteRuntime {
  // Each stage's per-request state gets the next index of the route's stageState array.
  let states = 0;
  const state = <T>() => new RequestState<T>(states++);
  const shared = services.shared;
  const metrics = compiled.metrics.enabled ? services.metrics : null;
  const stages = plan.stages.map((s) =>
    stageFactory(s.kind).instantiate(s.plan, {
      log: services.log,
      state,
      settings: compiled.stageSettings[s.kind],
      tables: shared.stageTables[s.kind] ?? {},
      secret: shared.secret,
      service: services.serviceViews.view(s.kind),
      keep: (key, create) => services.kept.keep(key, create),
      counter: (family, labels) => (metrics === null ? { value: 0 } : metrics.counter(family, labels)),
    }),
  );
  const forwarder = plan.upstream === -1 ? null : new RouteUpstream(upstreams[plan.upstream], plan);
  return routeRuntime(plan.name, forwarder, stages, metrics === null ? null : metrics.route(plan.name));
}

/** One exporter per target and service name, made on first use and flushed when the worker drains. */
function spanExporter(plan: CompiledPlan, services: WorkerServices): OtlpExporter | null {
  const t = plan.tracing;
  const otlp = t.otlp;
  if (otlp === null) return null;
  return services.kept.keep(
    `otlp ${JSON.stringify([otlp, t.serviceName])}`,
    () =>
      new OtlpExporter(otlp, t.serviceName, services.log, {
        exported: services.metrics.counter('spansExported', []),
        dropped: services.metrics.counter('spansDropped', []),
      }),
  );
}
