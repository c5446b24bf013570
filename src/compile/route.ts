import type { Predicate, RetriesConfig, RouteConfig } from '../config/types.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';
import { isSafeValue, UNSAFE_VALUE } from '../http/fields.js';
import type { StageFactory } from '../pipeline/stage-factory.js';
import type { HostsPlan, PredicatePlan, SegmentPlan } from '../router/match-plan.js';
import { normalizePath, pathRejection } from '../router/normalize-path.js';
import { parsePathPattern } from '../router/path-pattern.js';
import type { PathPolicy } from '../router/path-policy.js';
import { principalKind } from '../stages/auth/compile.js';
import { stageRegistry } from '../stages/registry.js';
import type { FallbackPlan, RetryPlan, RoutePlan, StagePlan } from './plan.js';

/** The stages that answer every request of a route that sets them (respond:): such a route has no upstream. */
const ANSWERING: readonly StageFactory[] = stageRegistry.filter((f) => f.answers === true);

/** One route's config → plan; every cross-field problem is reported at its place (`routes[index]…`). */
export function compileRoute(
  r: RouteConfig,
  index: number,
  stageSettings: Record<string, unknown>,
  upstreamNames: string[],
  configDir: string,
  pathPolicy: PathPolicy,
  problems: SchemaProblem[],
): RoutePlan {
  const at = (...rest: (string | number)[]): ConfigPath => ['routes', index, ...rest];
  const report = (path: ConfigPath, message: string) => problems.push({ path, message });
  const m = r.match;
  return {
    index,
    name: r.name,
    hosts: m.hosts === undefined ? null : compileHosts(m.hosts),
    methods: compileMethods(r),
    scheme: m.scheme ?? null,
    ...compilePath(m, pathPolicy, at, report),
    headers: compilePredicates(m.headers, true),
    query: compilePredicates(m.query, false),
    upstream: compileTarget(r, upstreamNames, at, report),
    preserveHost: r.preserve_host,
    retries: compileRetries(r),
    timeoutMs: r.timeout_ms ?? -1,
    fallback: compileFallback(r),
    stages: compileStages(r, stageSettings, configDir, pathPolicy, at, report),
  };
}

type At = (...rest: (string | number)[]) => ConfigPath;
type Report = (path: ConfigPath, message: string) => void;

function compilePath(m: RouteConfig['match'], policy: PathPolicy, at: At, report: Report): Pick<RoutePlan, 'path' | 'prefix'> {
  if ((m.path === undefined) === (m.prefix === undefined)) report(at('match'), 'set exactly one of path or prefix');
  let path: SegmentPlan[] | null = null;
  if (m.path !== undefined) {
    const parsed = parsePathPattern(m.path);
    if (typeof parsed === 'string') report(at('match', 'path'), parsed);
    else path = parsed.map((s) => (s.kind === 'static' ? { kind: 'static', value: normalizeLiteral(s.value, policy) } : s));
  }
  let prefix: string | null = null;
  if (m.prefix !== undefined) {
    prefix = normalizePath(m.prefix, policy);
    if (prefix === null) report(at('match', 'prefix'), `is not a valid path: ${pathRejection()}`);
  }
  return { path, prefix };
}

/**
 * Where the route's requests go (the index of its upstream, or -1 when a stage answers them), and the
 * checks of the fields that only apply with an upstream: retries, timeout_ms, fallback.
 */
function compileTarget(r: RouteConfig, upstreamNames: string[], at: At, report: Report): number {
  const answered = ANSWERING.some((f) => stageField(r, f) !== undefined);
  if ((r.upstream === undefined) === !answered) report(at(), `set exactly one of upstream or ${ANSWERING.map((f) => f.kind).join(' or ')}`);
  const upstream = r.upstream === undefined ? -1 : upstreamNames.indexOf(r.upstream);
  if (r.upstream !== undefined && upstream === -1) {
    report(at('upstream'), `no upstream named "${r.upstream}" (defined: ${upstreamNames.join(', ') || 'none'})`);
  }
  for (const [k, v] of Object.entries(r.fallback?.headers ?? {})) {
    if (!isSafeValue(v)) report(at('fallback', 'headers', k), UNSAFE_VALUE);
  }
  if (r.upstream === undefined && (r.retries !== undefined || r.fallback !== undefined || r.timeout_ms !== undefined)) {
    report(at(), 'retries, timeout_ms and fallback apply only to routes with an upstream');
  }
  const bo = r.retries?.backoff;
  if (bo !== undefined && bo.max_ms < bo.base_ms) report(at('retries', 'backoff', 'max_ms'), 'must be at least base_ms');
  return upstream;
}

/** Each stage the route sets, in registry order, compiled by the stage itself. */
function compileStages(r: RouteConfig, stageSettings: Record<string, unknown>, configDir: string, pathPolicy: PathPolicy, at: At, report: Report): StagePlan[] {
  const stages: StagePlan[] = [];
  const route = {
    name: r.name,
    hasUpstream: r.upstream !== undefined,
    methods: r.match.methods ?? null,
    principal: principalKind((r as RouteConfig & Record<string, unknown>).auth),
    configDir,
    normalizePath: (path: string) => ({ path: normalizePath(path, pathPolicy), why: pathRejection() }),
  };
  const problems = { report: (rel: readonly (string | number)[], message: string) => report(at(...rel), message) };
  for (const f of stageRegistry) {
    const raw = stageField(r, f);
    if (raw === undefined && f.everyRoute !== true) continue;
    const plan = f.compile(raw, route, stageSettings[f.kind], problems);
    if (plan !== null) stages.push({ kind: f.kind, plan });
  }
  return stages;
}

/** A stage's field of a route: validated against the stage's own schema, so its compile may trust it. */
function stageField(r: RouteConfig, f: StageFactory): unknown {
  return (r as RouteConfig & Record<string, unknown>)[f.kind];
}

/** Route literals are normalised like request paths so "/caf%c3%a9" and "/%7Euser" match as sent. */
function normalizeLiteral(segment: string, policy: PathPolicy): string {
  const n = normalizePath('/' + segment, policy);
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

/**
 * Without retries:, a connect error (nothing reached the upstream) is tried again, up to 3 tries, and
 * request bodies are streamed, never kept (so a request with a body is not retried).
 */
const DEFAULT_RETRIES: RetriesConfig = {
  attempts: 3,
  on: ['connect_error'],
  non_idempotent: false,
  buffer_bytes: 65536,
  backoff: { base_ms: 25, max_ms: 250 },
};

function compileRetries(r: RouteConfig): RetryPlan {
  const c = r.retries ?? DEFAULT_RETRIES;
  return {
    attempts: c.attempts,
    connectError: c.on.includes('connect_error'),
    reset: c.on.includes('reset'),
    timeout: c.on.includes('timeout'),
    statuses: c.on.filter((x): x is 500 | 502 | 503 | 504 => typeof x === 'number'),
    perTryTimeoutMs: c.per_try_timeout_ms ?? -1,
    nonIdempotent: c.non_idempotent,
    bufferBytes: r.retries === undefined ? 0 : c.buffer_bytes,
    backoffBaseMs: c.backoff.base_ms,
    backoffMaxMs: c.backoff.max_ms,
  };
}

function compileFallback(r: RouteConfig): FallbackPlan | null {
  const f = r.fallback;
  if (f === undefined) return null;
  return { status: f.status, body: f.body, headers: Object.entries(f.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const) };
}

/** A route's methods, with those its stages also match (OPTIONS for `cors:` preflights). */
function compileMethods(r: RouteConfig): string[] | null {
  const methods = r.match.methods;
  if (methods === undefined) return null;
  const out = [...methods];
  for (const f of stageRegistry) {
    if (f.alsoMatches === undefined || (r as RouteConfig & Record<string, unknown>)[f.kind] === undefined) continue;
    for (const m of f.alsoMatches) if (!out.includes(m)) out.push(m);
  }
  return out;
}
