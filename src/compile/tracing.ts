import type { GatewayConfig } from '../config/types.js';
import type { TracingPlan } from './plan.js';

const TRACES_PATH = '/v1/traces';

/** tracing: → TracingPlan. Without otlp: nothing records spans, so no started trace is marked sampled. */
export function compileTracing(t: GatewayConfig['tracing']): TracingPlan {
  const o = t.otlp;
  if (o === undefined) return { sample: 0, serviceName: t.service_name, otlp: null };
  const base = o.endpoint.replace(/\/+$/, '');
  const headers: string[] = [];
  for (const [name, value] of Object.entries(o.headers ?? {})) headers.push(name.toLowerCase(), value);
  return {
    sample: t.sample,
    serviceName: t.service_name,
    otlp: { url: base.endsWith(TRACES_PATH) ? base : base + TRACES_PATH, headers, timeoutMs: o.timeout_ms },
  };
}
