import type { RouteMetrics } from '../observe/worker-metrics.js';
import type { Forwarder } from './downstream.js';
import type { Stage } from './phase.js';

/** A route as a worker runs it for one config generation: its stages split per phase, and its way upstream. */
export interface RouteRuntime {
  readonly name: string;
  /** null: the route answers by itself (a `respond:` route). */
  readonly forwarder: Forwarder | null;
  /** Its series (the same across generations); null when metrics are off. */
  readonly metrics: RouteMetrics | null;
  // Per phase, the stages that have it, in pipeline order; null when none has (checked on the hot path).
  readonly onRequest: readonly Stage[] | null;
  readonly onUpstreamRequest: readonly Stage[] | null;
  readonly onResponse: readonly Stage[] | null;
  readonly onRequestBody: readonly Stage[] | null;
  readonly onResponseBody: readonly Stage[] | null;
  readonly onLog: readonly Stage[] | null;
}

export function routeRuntime(name: string, forwarder: Forwarder | null, stages: readonly Stage[], metrics: RouteMetrics | null = null): RouteRuntime {
  const having = (phase: keyof Stage) => {
    const list = stages.filter((s) => s[phase] !== undefined);
    return list.length === 0 ? null : list;
  };
  return {
    name,
    forwarder,
    metrics,
    onRequest: having('onRequest'),
    onUpstreamRequest: having('onUpstreamRequest'),
    onResponse: having('onResponse'),
    onRequestBody: having('onRequestBody'),
    onResponseBody: having('onResponseBody'),
    onLog: having('onLog'),
  };
}
