/**
 * The compiled plan: what the primary ships to every worker thread for one config generation.
 * Plain, structured-clonable data only (no functions, no classes): workers build their runtime
 * objects (router, stages, pools) from it with instantiate-style functions.
 */
export interface CompiledPlan {
  readonly generation: number;
  readonly file: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly admin: { readonly host: string; readonly port: number };
  readonly workers: number;
  readonly limits: { readonly maxHeaderBytes: number; readonly maxBodyBytes: number; readonly allowChunkedRequests: boolean };
  readonly timeouts: { readonly connectMs: number; readonly responseHeaderMs: number; readonly idleMs: number; readonly drainMs: number };
  readonly log: { readonly level: string; readonly access: boolean; readonly sample: number };
  readonly rateLimits: RateLimitsPlan;
  readonly upstreams: readonly UpstreamPlan[];
  readonly routes: readonly RoutePlan[];
}

export interface RateLimitsPlan {
  /** Slots of each shared table (a power of two); fixed when the gateway starts. */
  readonly tableSlots: number;
  readonly redis: { readonly url: string; readonly timeoutMs: number; readonly keyPrefix: string } | null;
}

export interface EndpointPlan {
  /** scheme://host:port, the undici pool key. */
  readonly origin: string;
  /** host:port, sent as Host when a route has preserve_host: false. */
  readonly hostHeader: string;
}

export interface UpstreamPlan {
  readonly name: string;
  readonly endpoints: readonly EndpointPlan[];
  readonly pool: { readonly connections: number; readonly pipelining: number; readonly keepAliveMs: number };
}

/** One path segment of a `path:` pattern. */
export type SegmentPlan =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface PredicatePlan {
  /** Lower-cased for headers, as written for query parameters. */
  readonly name: string;
  /** null = must be present with any value. */
  readonly value: string | null;
}

export interface HostsPlan {
  /** Lower-cased exact names, with or without :port. */
  readonly exact: readonly string[];
  /** Lower-cased suffixes of *.example.com patterns, stored as ".example.com". */
  readonly suffixes: readonly string[];
}

export interface StagePlan {
  readonly kind: string;
  readonly plan: unknown;
}

export interface RoutePlan {
  readonly index: number;
  readonly name: string;
  readonly hosts: HostsPlan | null;
  readonly methods: readonly string[] | null;
  readonly path: readonly SegmentPlan[] | null;
  readonly prefix: string | null;
  readonly headers: readonly PredicatePlan[] | null;
  readonly query: readonly PredicatePlan[] | null;
  /** Index into CompiledPlan.upstreams, or -1 for routes that answer themselves. */
  readonly upstream: number;
  readonly preserveHost: boolean;
  /** In pipeline order; see stages/registry.ts. */
  readonly stages: readonly StagePlan[];
}
