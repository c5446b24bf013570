/** The validated, defaulted, deep-frozen configuration. Field docs live in schema.ts. */
export type Predicate = string | { readonly present: true };

export interface EndpointConfig { readonly url: string; readonly weight: number }

export type BalancePolicy = 'round_robin' | 'weighted' | 'least_outstanding' | 'latency' | 'hash';

export interface DnsDiscoveryConfig {
  readonly name: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  readonly family: 'ipv4' | 'ipv6' | 'any';
  readonly interval_ms: number;
  readonly servers?: readonly string[];
}

export interface EtcdDiscoveryConfig { readonly endpoints: readonly string[]; readonly prefix: string; readonly timeout_ms: number }

export interface UpstreamConfig {
  readonly endpoints?: readonly EndpointConfig[];
  readonly discovery?: { readonly dns?: DnsDiscoveryConfig; readonly etcd?: EtcdDiscoveryConfig };
  readonly balance: BalancePolicy;
  readonly hash_on?: string;
  readonly health: {
    readonly active?: {
      readonly path: string; readonly interval_ms: number; readonly timeout_ms: number;
      readonly healthy: number; readonly unhealthy: number; readonly expect_status?: readonly number[];
    };
    readonly passive: { readonly consecutive_failures: number; readonly eject_ms: number; readonly max_eject_ms: number; readonly max_ejected_percent: number };
    readonly panic_threshold: number;
  };
  readonly circuit_breaker?: {
    readonly failure_ratio: number; readonly min_requests: number; readonly window_ms: number;
    readonly open_ms: number; readonly half_open_requests: number;
  };
  readonly max_requests?: number;
  readonly max_pending?: number;
  readonly retry_budget: { readonly ratio: number; readonly min_per_s: number };
  readonly pool: { readonly connections: number; readonly pipelining: number; readonly keepalive_ms: number };
}

export type RetryCondition = 'connect_error' | 'reset' | 'timeout' | 500 | 502 | 503 | 504;

export interface RetriesConfig {
  readonly attempts: number;
  readonly on: readonly RetryCondition[];
  readonly per_try_timeout_ms?: number;
  readonly non_idempotent: boolean;
  readonly buffer_bytes: number;
  readonly backoff: { readonly base_ms: number; readonly max_ms: number };
}

export interface RouteConfig {
  readonly name: string;
  readonly match: {
    readonly hosts?: readonly string[];
    readonly methods?: readonly string[];
    readonly path?: string;
    readonly prefix?: string;
    readonly headers?: Readonly<Record<string, Predicate>>;
    readonly query?: Readonly<Record<string, Predicate>>;
  };
  readonly upstream?: string;
  readonly respond?: { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };
  readonly rewrite?: { readonly strip_prefix?: string; readonly add_prefix?: string };
  readonly rate_limit?: readonly RateLimitConfig[];
  readonly retries?: RetriesConfig;
  readonly timeout_ms?: number;
  readonly fallback?: { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };
  readonly preserve_host: boolean;
}

export interface RateLimitConfig {
  readonly name: string;
  readonly key: string | readonly string[];
  readonly rate?: number;
  readonly per: string;
  readonly burst?: number;
  readonly max_in_flight?: number;
  readonly scope: 'local' | 'cluster';
  readonly on_store_error: 'allow' | 'deny';
  readonly headers: boolean;
}

export interface RateLimitsConfig {
  readonly table_slots: number;
  readonly redis?: { readonly url: string; readonly timeout_ms: number; readonly key_prefix: string };
}

export interface GatewayConfig {
  readonly version: 1;
  readonly listen: { readonly host: string; readonly port: number };
  readonly admin: { readonly host: string; readonly port: number };
  readonly workers: 'auto' | number;
  readonly limits: { readonly max_header_bytes: number; readonly max_body_bytes: number; readonly allow_chunked_requests: boolean };
  readonly timeouts: { readonly connect_ms: number; readonly response_header_ms: number; readonly idle_ms: number; readonly drain_ms: number };
  readonly log: { readonly level: string; readonly access: boolean; readonly sample: number };
  readonly rate_limits: RateLimitsConfig;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly routes: readonly RouteConfig[];
}
