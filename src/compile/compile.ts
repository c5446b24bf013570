import { availableParallelism } from 'node:os';
import type { GatewayConfig, Predicate, RouteConfig } from '../config/types.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';
import { normalizePath } from '../router/normalize-path.js';
import { parsePathPattern } from '../router/path-pattern.js';
import type { StageFactory } from '../pipeline/stage-factory.js';
import { stageRegistry } from '../stages/registry.js';
import { compileFallback, compileRetries, compileUpstream } from './compile-upstream.js';
import type { CompiledPlan, HostsPlan, PredicatePlan, RoutePlan, SegmentPlan, StagePlan } from './plan.js';

/**
 * GatewayConfig → CompiledPlan. Pure: runs in the primary, reports cross-field problems with their
 * config path (load.ts adds line:col), and returns plain data for the workers.
 */
export function compile(cfg: GatewayConfig, file: string, generation: number): { plan: CompiledPlan } | { problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const stageSettings = compileStageSettings(cfg, problems);
  const upstreamNames = Object.keys(cfg.upstreams);
  const upstreams = upstreamNames.map((name) => compileUpstream(name, cfg.upstreams[name], problems));
  const seen = new Map<string, number>();
  const routes = cfg.routes.map((r, i) => {
    const earlier = seen.get(r.name);
    if (earlier !== undefined) problems.push({ path: ['routes', i, 'name'], message: `duplicate route name "${r.name}" (first used by routes[${earlier}])` });
    seen.set(r.name, i);
    return compileRoute(r, i, stageSettings, upstreamNames, problems);
  });
  if (problems.length > 0) return { problems };
  return {
    plan: {
      generation,
      file,
      listen: { ...cfg.listen },
      admin: { ...cfg.admin },
      workers: cfg.workers === 'auto' ? availableParallelism() : cfg.workers,
      limits: {
        maxHeaderBytes: cfg.limits.max_header_bytes,
        maxBodyBytes: cfg.limits.max_body_bytes,
        allowChunkedRequests: cfg.limits.allow_chunked_requests,
      },
      timeouts: {
        connectMs: cfg.timeouts.connect_ms,
        responseHeaderMs: cfg.timeouts.response_header_ms,
        idleMs: cfg.timeouts.idle_ms,
        drainMs: cfg.timeouts.drain_ms,
      },
      log: { ...cfg.log },
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

/** The stages that answer every request of a route that sets them (respond:): such a route has no upstream. */
const ANSWERING: readonly StageFactory[] = stageRegistry.filter((f) => f.answers === true);

function compileRoute(r: RouteConfig, index: number, stageSettings: Record<string, unknown>, upstreamNames: string[], problems: SchemaProblem[]): RoutePlan {
  const at = (...rest: (string | number)[]): ConfigPath => ['routes', index, ...rest];
  // The route as its stages' compile sees it: their own fields were validated against their schemas.
  const fields = r as RouteConfig & Record<string, unknown>;
  const answered = ANSWERING.some((f) => fields[f.kind] !== undefined);
  const m = r.match;
  if ((m.path === undefined) === (m.prefix === undefined)) {
    problems.push({ path: at('match'), message: 'set exactly one of path or prefix' });
  }
  let path: SegmentPlan[] | null = null;
  if (m.path !== undefined) {
    const parsed = parsePathPattern(m.path);
    if (typeof parsed === 'string') problems.push({ path: at('match', 'path'), message: parsed });
    else path = parsed.map((s) => (s.kind === 'static' ? { kind: 'static', value: normalizeLiteral(s.value) } : s));
  }
  let prefix: string | null = null;
  if (m.prefix !== undefined) {
    prefix = normalizePath(m.prefix);
    if (prefix === null) problems.push({ path: at('match', 'prefix'), message: 'is not a valid path' });
  }
  if ((r.upstream === undefined) === !answered) {
    problems.push({ path: at(), message: `set exactly one of upstream or ${ANSWERING.map((f) => f.kind).join(' or ')}` });
  }
  const upstream = r.upstream === undefined ? -1 : upstreamNames.indexOf(r.upstream);
  if (r.upstream !== undefined && upstream === -1) {
    problems.push({ path: at('upstream'), message: `no upstream named "${r.upstream}" (defined: ${upstreamNames.join(', ') || 'none'})` });
  }
  for (const [k, v] of Object.entries(r.fallback?.headers ?? {})) {
    if (/[\r\n\0]/.test(v)) problems.push({ path: at('fallback', 'headers', k), message: 'header values may not contain CR, LF or NUL' });
  }
  if (r.upstream === undefined && (r.retries !== undefined || r.fallback !== undefined || r.timeout_ms !== undefined)) {
    problems.push({ path: at(), message: 'retries, timeout_ms and fallback apply only to routes with an upstream' });
  }
  const bo = r.retries?.backoff;
  if (bo !== undefined && bo.max_ms < bo.base_ms) problems.push({ path: at('retries', 'backoff', 'max_ms'), message: 'must be at least base_ms' });
  const stages: StagePlan[] = [];
  const route = { name: r.name, hasUpstream: r.upstream !== undefined };
  const report = { report: (rel: readonly (string | number)[], message: string) => problems.push({ path: at(...rel), message }) };
  for (const f of stageRegistry) {
    const raw = fields[f.kind];
    if (raw === undefined) continue;
    const plan = f.compile(raw, route, stageSettings[f.kind], report);
    if (plan !== null) stages.push({ kind: f.kind, plan });
  }
  return {
    index,
    name: r.name,
    hosts: m.hosts === undefined ? null : compileHosts(m.hosts),
    methods: m.methods === undefined ? null : [...m.methods],
    path,
    prefix,
    headers: compilePredicates(m.headers, true),
    query: compilePredicates(m.query, false),
    upstream,
    preserveHost: r.preserve_host,
    retries: compileRetries(r),
    timeoutMs: r.timeout_ms ?? -1,
    fallback: compileFallback(r),
    stages,
  };
}

/** Route literals are normalised like request paths so "/caf%c3%a9" and "/%7Euser" match as sent. */
function normalizeLiteral(segment: string): string {
  const n = normalizePath('/' + segment);
  return n === null ? segment : n.slice(1);
}

function compileHosts(hosts: readonly string[]): HostsPlan {
  const exact: string[] = [];
  const suffixes: string[] = [];
  for (const h of hosts) {
    const lower = h.toLowerCase();
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
    else exact.push(lower);
  }
  return { exact, suffixes };
}

function compilePredicates(map: Readonly<Record<string, Predicate>> | undefined, lowerNames: boolean): PredicatePlan[] | null {
  if (map === undefined) return null;
  const list = Object.entries(map).map(([name, p]) => ({
    name: lowerNames ? name.toLowerCase() : name,
    value: typeof p === 'string' ? p : null,
  }));
  return list.length === 0 ? null : list;
}
