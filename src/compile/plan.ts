import type { CidrSet } from '../http/cidr.js';
import type { MatchPlan } from '../router/match-plan.js';
import type { PathPolicy } from '../router/path-policy.js';
import type { EjectionPolicy } from '../shared/endpoint-health.js';
import type { BreakerPolicy } from '../shared/upstream-table.js';

/**
 * The compiled plan: what the primary ships to every worker thread for one config generation.
 * Plain, structured-clonable data only (no functions, no classes): workers build their runtime
 * objects (router, stages, pools) from it with instantiate-style functions.
 */
export interface CompiledPlan {
  readonly generation: number;
  readonly file: string;
  /** Every worker opens every listener; the first is the one SLUICE_PORT and `sluice ready`'s port name. */
  readonly listeners: readonly ListenerPlan[];
  readonly admin: AdminPlan;
  readonly workers: number;
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxHeaderCount: number;
    readonly maxBodyBytes: number;
    readonly allowChunkedRequests: boolean;
    /** limits.path: what the request path normaliser does with encoded separators and ";" parameters. */
    readonly path: PathPolicy;
    /** An upstream response head's bytes, status line to the empty line included. */
    readonly upstreamHeaderBytes: number;
    /** Header lines in an upstream response head. */
    readonly upstreamHeaderCount: number;
  };
  readonly timeouts: {
    readonly connectMs: number;
    readonly responseHeaderMs: number;
    readonly idleMs: number;
    readonly clientBodyMs: number;
    readonly drainMs: number;
  };
  readonly log: LogPlan;
  /** Whether workers record request, upstream and stage metrics (the scrape's own series are always there). */
  readonly metrics: { readonly enabled: boolean };
  readonly tracing: TracingPlan;
  /** Peers whose forwarding headers are believed (worker/client-address.ts). */
  readonly trustedProxies: CidrSet;
  /** Each stage's compiled settings (StageFactory.settings), by stage kind. */
  readonly stageSettings: Readonly<Record<string, unknown>>;
  readonly upstreams: readonly UpstreamPlan[];
  readonly routes: readonly RoutePlan[];
}

/** log, compiled (compile/log.ts); workers build their access-line format from it (observe/access-fields.ts). */
export interface LogPlan {
  readonly level: string;
  readonly sample: number;
  readonly access: {
    readonly enabled: boolean;
    /** Field names, from config/schema.ts ACCESS_LOG_FIELDS. */
    readonly fields: readonly string[];
    /** Lower-case request header names a line carries. */
    readonly requestHeaders: readonly string[];
  };
  readonly mask: {
    /** Lower-case header names. */
    readonly headers: readonly string[];
    readonly queryParams: readonly string[];
    readonly jsonFields: readonly string[];
  };
}

/** tracing: as the workers use it. */
export interface TracingPlan {
  /** The share of started traces that are sampled: 0 without an exporter (nothing would record them). */
  readonly sample: number;
  readonly serviceName: string;
  readonly otlp: OtlpPlan | null;
}

export interface OtlpPlan {
  /** The full URL spans are POSTed to (…/v1/traces). */
  readonly url: string;
  /** Flat [name, value, ...], lower-case names. */
  readonly headers: readonly string[];
  readonly timeoutMs: number;
}

export interface AdminPlan {
  readonly host: string;
  readonly port: number;
  /** admin.token_file, resolved against the config's folder; null without one. */
  readonly tokenFile: string | null;
  /**
   * sha256 (hex) of the admin token, from admin.token or SLUICE_ADMIN_TOKEN here, or from tokenFile
   * once the primary has read it; null = the admin API is open. The token itself is kept nowhere.
   */
  readonly tokenDigest: string | null;
}

export interface ListenerPlan {
  readonly host: string;
  readonly port: number;
  /** Where it is in the config (`listen` or `listen[i]`), to place problems found later. */
  readonly at: readonly (string | number)[];
  readonly tls: TlsPlan | null;
  /** A plain listener that answers 308 to this listener (an index in listeners, a TLS one); null: it serves. */
  readonly redirectTo: number | null;
}

/**
 * Files are absolute paths; uWS reads them itself when a worker builds its TLS app. compile/ names
 * the configured files; the primary replaces them with checked private copies (primary/tls-pairs.ts).
 */
export interface TlsPlan {
  /** The files as configured: what the primary watches for changes. */
  readonly sources: readonly string[];
  readonly cert: string;
  readonly key: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Server name → pair; `*.example.com` names as written (uWS matches them). */
  readonly sni: readonly { readonly hosts: readonly string[]; readonly cert: string; readonly key: string }[];
  readonly clientCa: string | null;
  /**
   * A digest of every file's content and of the settings the app is built from (min_version, SNI
   * names, whether there is a client CA), filled in by the primary once it has checked the pairs: a
   * worker rebuilds its TLS app when this changes, and only then.
   */
  readonly stamp: string;
}

export interface EndpointPlan {
  /** scheme://host:port, the connection pool key. */
  readonly origin: string;
  /** host:port, sent as Host when a route has preserve_host: false. */
  readonly hostHeader: string;
  /** 0 = drained. */
  readonly weight: number;
  /** Row in the shared endpoint-health table; assigned by the primary (-1 until then). */
  readonly row: number;
}

export type HashOnPlan = { readonly kind: 'ip' } | { readonly kind: 'header' | 'cookie' | 'query'; readonly name: string };

export interface ActiveHealthPlan {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthy: number;
  readonly unhealthy: number;
  /** null = any 2xx or 3xx. */
  readonly expectStatus: readonly number[] | null;
}

/** Passive outlier detection: the shared endpoint table applies it (shared/endpoint-health.ts). */
export type PassiveHealthPlan = EjectionPolicy;

/** The circuit breaker: the shared upstream table applies it (shared/upstream-table.ts). */
export type BreakerPlan = BreakerPolicy;

export type DiscoveryPlan =
  | { readonly kind: 'static' }
  | {
      readonly kind: 'dns';
      readonly name: string;
      readonly port: number;
      readonly scheme: 'http' | 'https';
      readonly family: 'ipv4' | 'ipv6' | 'any';
      readonly intervalMs: number;
      readonly servers: readonly string[] | null;
    }
  | { readonly kind: 'etcd'; readonly endpoints: readonly string[]; readonly prefix: string; readonly timeoutMs: number };

export interface UpstreamPlan {
  readonly name: string;
  /** Static ones from the config; discovered ones filled in by the primary before publishing. */
  readonly endpoints: readonly EndpointPlan[];
  readonly discovery: DiscoveryPlan;
  /**
   * Row in the shared upstream table (breaker, budget, in-flight), and the row of the endpoint table
   * whose claim word serialises this upstream's ejections; assigned by the primary.
   */
  readonly row: number;
  readonly balance: 'round_robin' | 'weighted' | 'least_outstanding' | 'latency' | 'hash';
  readonly hashOn: HashOnPlan | null;
  readonly active: ActiveHealthPlan | null;
  readonly passive: PassiveHealthPlan;
  /** Percent; 0 = never fail open. */
  readonly panicThreshold: number;
  readonly breaker: BreakerPlan | null;
  /** -1 = unlimited. */
  readonly maxRequests: number;
  readonly maxPending: number;
  readonly retryBudget: { readonly ratio: number; readonly minPerS: number };
  readonly pool: { readonly connections: number; readonly pipelining: number; readonly keepAliveMs: number };
  /** null: https:// endpoints use the system store plus NODE_EXTRA_CA_CERTS, with the default checks. */
  readonly tls: UpstreamTlsPlan | null;
}

export interface UpstreamTlsPlan {
  /** upstreams.*.tls file paths, resolved against the config's folder; null when not set. */
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** PEM text of those files, read and checked by the primary once per config generation (null until then). */
  readonly ca: string | null;
  readonly cert: string | null;
  readonly key: string | null;
  /** SNI and the name checked in the certificate; null = the endpoint's host name. */
  readonly servername: string | null;
  readonly verify: boolean;
  /**
   * A digest of all of the above once read: part of the pool key, so that a reload that changes a
   * file or an option opens new connections while one that changes nothing keeps the warm ones.
   */
  readonly id: string;
}

export interface RetryPlan {
  readonly attempts: number;
  readonly connectError: boolean;
  readonly reset: boolean;
  readonly timeout: boolean;
  /** Upstream statuses that are retried (500, 502, 503, 504). */
  readonly statuses: readonly number[];
  /** -1 = timeouts.response_header_ms. */
  readonly perTryTimeoutMs: number;
  readonly nonIdempotent: boolean;
  /** Request bodies up to this size are kept for retries; 0 = always streamed (no retries: block). */
  readonly bufferBytes: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export interface FallbackPlan {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export interface StagePlan {
  readonly kind: string;
  readonly plan: unknown;
}

export interface RoutePlan extends MatchPlan {
  readonly name: string;
  /** Index into CompiledPlan.upstreams, or -1 for routes that answer themselves. */
  readonly upstream: number;
  readonly preserveHost: boolean;
  readonly retries: RetryPlan;
  /** -1 = none. */
  readonly timeoutMs: number;
  readonly fallback: FallbackPlan | null;
  /** In pipeline order; see stages/registry.ts. */
  readonly stages: readonly StagePlan[];
}

/** The route, upstream and endpoint names of a plan: what metric series may still be labelled with. */
export function planNames(plan: CompiledPlan): { routes: Set<string>; upstreams: Set<string>; endpoints: Set<string> } {
  return {
    routes: new Set(plan.routes.map((r) => r.name)),
    upstreams: new Set(plan.upstreams.map((u) => u.name)),
    endpoints: new Set(plan.upstreams.flatMap((u) => u.endpoints.map((e) => e.origin))),
  };
}
