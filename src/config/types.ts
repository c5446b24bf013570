/** The validated, defaulted, deep-frozen configuration. Field docs live in schema.ts. */
export type Predicate = string | { readonly present: true };

export interface EndpointConfig { readonly url: string }

export interface UpstreamConfig {
  readonly endpoints: readonly EndpointConfig[];
  readonly pool: { readonly connections: number; readonly pipelining: number; readonly keepalive_ms: number };
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
