import { looksSecret, REDACTED } from '../config/redact.js';
import type { PredicatePlan } from '../router/match-plan.js';
import { inMatchOrder, patternText } from '../router/route-order.js';
import type { CompiledPlan, RetryPlan, RoutePlan } from './plan.js';

/**
 * GET /routes: the compiled route table in match order (router/route-order.ts): for a request, the
 * first route listed whose match holds is the one that serves it. Plain JSON for people and the
 * dashboard; a stage is shown by its kind only, since its plan may hold key material.
 */
export function describeRoutes(plan: CompiledPlan): unknown {
  return {
    generation: plan.generation,
    routes: inMatchOrder(plan.routes).map((r, order) => describeRoute(plan, r, order)),
  };
}

function describeRoute(plan: CompiledPlan, r: RoutePlan, order: number) {
  const upstream = r.upstream === -1 ? null : plan.upstreams[r.upstream];
  return {
    order,
    name: r.name,
    config_index: r.index,
    match: {
      hosts: r.hosts === null ? null : [...r.hosts.exact, ...r.hosts.suffixes.map((s) => `*${s}`)],
      methods: r.methods,
      scheme: r.scheme,
      path: r.path === null ? null : patternText(r.path),
      prefix: r.prefix,
      headers: predicates(r.headers),
      query: predicates(r.query),
    },
    upstream: upstream?.name ?? null,
    stages: r.stages.map((s) => s.kind),
    timeout_ms: r.timeoutMs === -1 ? null : r.timeoutMs,
    retries: upstream === undefined || upstream === null ? null : retries(r.retries, plan.timeouts.responseHeaderMs),
    preserve_host: r.preserveHost,
    fallback_status: r.fallback?.status ?? null,
  };
}

/** name → value, or { present: true }; a credential's value (a match on x-api-key or ?token=) is not shown. */
function predicates(list: readonly PredicatePlan[] | null): Record<string, string | { present: true }> | null {
  if (list === null) return null;
  const out: Record<string, string | { present: true }> = {};
  for (const p of list) out[p.name] = p.value === null ? { present: true } : looksSecret(p.name) ? REDACTED : p.value;
  return out;
}

function retries(r: RetryPlan, responseHeaderMs: number) {
  const on = [...(r.connectError ? ['connect_error'] : []), ...(r.reset ? ['reset'] : []), ...(r.timeout ? ['timeout'] : []), ...r.statuses];
  return {
    attempts: r.attempts,
    on,
    per_try_timeout_ms: r.perTryTimeoutMs === -1 ? responseHeaderMs : r.perTryTimeoutMs,
    non_idempotent: r.nonIdempotent,
    backoff_ms: { base: r.backoffBaseMs, max: r.backoffMaxMs },
  };
}
