/**
 * The configuration schema: one JSON Schema (a small draft 2020-12 subset) whose `description`s are the
 * field reference and whose `default`s are the defaults. This file holds the gateway's own fields;
 * each stage declares its route field and settings in its folder, and assembleSchema adds them. `sluice schema` prints it; the published copy in
 * config/sluice.schema.json is checked against it by a test. Cross-field rules (route → upstream references,
 * exactly one of path/prefix, ...) live in compile/, which reports them with the same file:line:col.
 * Built with schema-node.ts so that types.ts can derive the config types from these values.
 */
import { anyOf, array, boolean, enumOf, integer, number, object, record, type SchemaNode, string } from './schema-node.js';

export const ms = (description: string, def: number, minimum = 1) => integer({ minimum, maximum: 86_400_000, default: def, description });

/** An HTTP field name (RFC 9110 token). */
export const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const headerMap = record(string({ maxLength: 8192 }), {
  description: 'Header name → value. Values may not contain CR, LF or NUL.',
  propertyNames: { pattern: HEADER_NAME },
});

export const predicateSchema = anyOf([string(), object({ present: boolean({ const: true }) }, { required: ['present'], additionalProperties: false })]);

const predicateMap = (what: string, names?: string) =>
  record(predicateSchema, {
    ...(names === undefined ? {} : { propertyNames: { pattern: names } }),
    description: `${what} name → exact value, or { present: true } to require only that it is there.`,
  });

export const endpointSchema = object(
  {
    url: string({ description: 'http://host:port of one endpoint (no path, query or credentials).' }),
    weight: integer({
      minimum: 0,
      maximum: 1000,
      default: 1,
      description: 'Share of requests relative to the other endpoints; 0 = drained (no new requests, in-flight ones finish).',
    }),
  },
  {
    additionalProperties: false,
    required: ['url'],
  },
);

export const dnsDiscoverySchema = object(
  {
    name: string({ pattern: '^[A-Za-z0-9.-]{1,253}$', description: 'The DNS name.' }),
    port: integer({ minimum: 1, maximum: 65535, description: 'Port of every endpoint.' }),
    scheme: string({ enum: ['http', 'https'], default: 'http', description: 'Scheme of every endpoint.' }),
    family: string({ enum: ['ipv4', 'ipv6', 'any'], default: 'any', description: 'Which records: A (ipv4), AAAA (ipv6) or both.' }),
    interval_ms: ms('How often the name is resolved again, in milliseconds.', 5000, 100),
    servers: array(string(), {
      description: 'Ask these DNS servers (ip or ip:port) directly; default: the system resolver (getaddrinfo, /etc/hosts included).',
    }),
  },
  {
    additionalProperties: false,
    required: ['name', 'port'],
    description: "Re-resolve a name's A/AAAA records; every address is an endpoint.",
  },
);

export const etcdDiscoverySchema = object(
  {
    endpoints: array(string({ pattern: '^https?://' }), { minItems: 1, description: 'etcd client URLs, tried in order.' }),
    prefix: string({ minLength: 1, description: 'Key prefix, e.g. /services/users/.' }),
    timeout_ms: ms('Connect and request timeout towards etcd, in milliseconds.', 2000),
  },
  {
    additionalProperties: false,
    required: ['endpoints', 'prefix'],
    description: 'Watch a key prefix in etcd v3 (through its JSON gateway); each value is {"url": "http://host:port", "weight": 1}.',
  },
);

export const discoverySchema = object(
  {
    dns: dnsDiscoverySchema,
    etcd: etcdDiscoverySchema,
  },
  {
    additionalProperties: false,
    description:
      'Where the endpoint list comes from instead of endpoints: (exactly one of dns or etcd). Changes apply without a reload. See docs/upstreams.md.',
  },
);

const activeHealth = object(
  {
    path: string({ pattern: '^/', default: '/healthz', description: 'Path probed.' }),
    interval_ms: ms('Time between probes of one endpoint, in milliseconds.', 5000, 50),
    timeout_ms: ms('A probe slower than this fails, in milliseconds.', 1000),
    healthy: integer({ minimum: 1, maximum: 100, default: 2, description: 'Consecutive passing probes that make an unhealthy endpoint healthy.' }),
    unhealthy: integer({ minimum: 1, maximum: 100, default: 3, description: 'Consecutive failing probes that make an endpoint unhealthy.' }),
    expect_status: array(integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'Statuses that pass (default: any 2xx or 3xx).' }),
  },
  {
    additionalProperties: false,
    description: 'Probe every endpoint with a GET.',
  },
);

const passiveHealth = object(
  {
    consecutive_failures: integer({
      minimum: 0,
      maximum: 10_000,
      default: 5,
      description: 'Failures in a row that eject the endpoint; 0 turns passive detection off.',
    }),
    eject_ms: ms('First ejection length, in milliseconds; each repeat ejection lasts one eject_ms longer.', 10_000),
    max_eject_ms: ms('Longest ejection, in milliseconds.', 300_000),
    max_ejected_percent: integer({ minimum: 0, maximum: 100, default: 50, description: "Never eject more than this share of the upstream's endpoints." }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Eject an endpoint after consecutive failures (connect errors, resets, timeouts, 5xx) seen by live traffic.',
  },
);

const health = object(
  {
    active: activeHealth,
    passive: passiveHealth,
    panic_threshold: integer({
      minimum: 0,
      maximum: 100,
      default: 0,
      description:
        'When fewer than this percent of endpoints are healthy, ignore health and spread over all of them (as Envoy does); 0 = never: answer 503 SLUICE_ERR_NO_HEALTHY_UPSTREAM when none is healthy.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Endpoint health: active checks (run once, by the primary process) and passive outlier detection (every worker reports to one shared table).',
  },
);

const circuitBreaker = object(
  {
    failure_ratio: number({ minimum: 0.01, maximum: 1, default: 0.5, description: 'Failed share of tries over window_ms that opens the circuit.' }),
    min_requests: integer({ minimum: 1, maximum: 1_000_000, default: 20, description: 'Tries in the window before the ratio counts.' }),
    window_ms: ms('Rolling window of the failure ratio, in milliseconds.', 10_000, 100),
    open_ms: ms('How long an open circuit answers at once without upstream traffic, in milliseconds.', 5000),
    half_open_requests: integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'Probe requests let through after open_ms; all succeed → closed, one fails → open again.',
    }),
  },
  {
    additionalProperties: false,
    description: 'Stop sending to a failing upstream for a while (shared by all workers).',
  },
);

const retryBudget = object(
  {
    ratio: number({ minimum: 0, maximum: 10, default: 0.2, description: 'Retries allowed per request, on average.' }),
    min_per_s: integer({ minimum: 0, maximum: 1_000_000, default: 5, description: 'Retries per second always allowed (so low traffic can still retry).' }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Retries to this upstream stay below ratio × requests (plus min_per_s) over a 10 s window, all workers together: no retry storms.',
  },
);

const pool = object(
  {
    connections: integer({
      minimum: 1,
      maximum: 100_000,
      default: 64,
      description: 'Max connections per endpoint per worker. Env SLUICE_POOL_CONNECTIONS overrides it for every upstream.',
    }),
    pipelining: integer({
      minimum: 1,
      maximum: 128,
      default: 1,
      description: 'Requests in flight per connection (1 = no pipelining). Env SLUICE_PIPELINING overrides it for every upstream.',
    }),
    keepalive_ms: ms(
      'How long an idle upstream connection is kept open, in milliseconds. An upstream that sends Keep-Alive: timeout=N gets its connections reused only within N − 1 s (N/2 when shorter) when that is less.',
      4000,
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: "Per worker thread, per endpoint keep-alive pool (sluice's HTTP/1.1 upstream client, src/upstream/http1/).",
  },
);

const upstreamTls = object(
  {
    ca: string({
      minLength: 1,
      description:
        "PEM file of the CA certificate(s) the endpoints' certificates must chain to. When set, only these are trusted: the system store and NODE_EXTRA_CA_CERTS are not.",
    }),
    cert: string({ minLength: 1, description: 'PEM file of the client certificate sluice presents to the endpoints (upstream mTLS); needs key.' }),
    key: string({ minLength: 1, description: 'PEM file of the private key of cert (unencrypted).' }),
    servername: string({
      pattern: '^[A-Za-z0-9.-]{1,253}$',
      description:
        "SNI sent, and the name the endpoint's certificate must carry. Default: the endpoint's host name (an IP address is checked against the certificate's IP SANs, and no SNI is sent).",
    }),
    verify: boolean({
      default: true,
      description:
        'false: accept any certificate, unchecked (no chain, no name). Anyone on the path can then read and change the traffic; logged as a warning.',
    }),
  },
  {
    additionalProperties: false,
    description: 'TLS towards https:// endpoints. File paths are relative to the config file and read at start and on each reload. See docs/upstreams.md.',
  },
);

export const upstreamSchema = object(
  {
    endpoints: array(endpointSchema, { minItems: 1, description: 'Static endpoint list.' }),
    discovery: discoverySchema,
    balance: string({
      enum: ['round_robin', 'weighted', 'least_outstanding', 'latency', 'hash'],
      default: 'round_robin',
      description:
        'How an endpoint is picked: round_robin (weights ignored except 0), weighted (smooth weighted round robin), least_outstanding (fewest in flight of two random picks), latency (peak-EWMA response time × in flight), hash (consistent hash of hash_on).',
    }),
    hash_on: string({
      pattern: "^(ip|(header|cookie|query):[!#$%&'*+.^_`|~0-9A-Za-z-]+)$",
      description: 'For balance: hash, what the key is: ip, header:NAME, cookie:NAME or query:NAME. Requests without it are spread round robin.',
    }),
    health,
    circuit_breaker: circuitBreaker,
    max_requests: integer({
      minimum: 1,
      maximum: 100_000_000,
      description: 'Requests in flight to this upstream at once, all workers together; more → 503 SLUICE_ERR_UPSTREAM_OVERLOADED at once.',
    }),
    max_pending: integer({
      minimum: 0,
      maximum: 100_000_000,
      description:
        "Requests one worker may queue per endpoint beyond its pool's connections × pipelining; more → another endpoint, or 503 SLUICE_ERR_UPSTREAM_OVERLOADED.",
    }),
    retry_budget: retryBudget,
    pool,
    tls: upstreamTls,
  },
  {
    additionalProperties: false,
    description: 'A named group of interchangeable endpoints: a static list (endpoints:) or a discovered one (discovery:). See docs/upstreams.md.',
  },
);

const RETRY_ON = ['connect_error', 'reset', 'timeout', 500, 502, 503, 504] as const;

export const retriesSchema = object(
  {
    attempts: integer({ minimum: 1, maximum: 10, default: 3, description: 'Tries in all, the first included (1 = never retry).' }),
    on: array(enumOf(RETRY_ON), {
      default: ['connect_error'],
      description:
        'What is retried: connect_error (nothing reached the upstream: any method), reset, timeout (per_try_timeout_ms or response_header_ms), or a status 500/502/503/504.',
    }),
    per_try_timeout_ms: integer({
      minimum: 1,
      maximum: 86_400_000,
      description: "Longest wait for one try's response headers, in milliseconds (default: timeouts.response_header_ms).",
    }),
    non_idempotent: boolean({
      default: false,
      description: 'Also retry POST, PATCH and other non-idempotent methods on reset, timeout and statuses (only if you know the upstream tolerates a repeat).',
    }),
    buffer_bytes: integer({
      minimum: 0,
      maximum: 16_777_216,
      default: 65536,
      description: 'Request bodies up to this size (with Content-Length) are kept so a retry can send them again; larger ones are streamed and not retried.',
    }),
    backoff: object(
      {
        base_ms: ms('In milliseconds.', 25, 0),
        max_ms: ms('In milliseconds.', 250, 0),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Wait before each retry: a random time from 0 to min(max_ms, base_ms × 2^retry) (full jitter).',
      },
    ),
  },
  {
    additionalProperties: false,
    description:
      'When a try fails, try again (another endpoint when there is one). Without retries:, a connect error of a request without a body is retried up to 3 tries. See docs/upstreams.md.',
  },
);

/** A response written in the config (a route's respond:, its fallback:); only the description differs. */
export const fixedResponse = (description: string) =>
  object(
    {
      status: integer({ minimum: 200, maximum: 599, default: 200, description: 'HTTP status.' }),
      body: string({ default: '', description: 'Response body.' }),
      headers: headerMap,
    },
    {
      additionalProperties: false,
      description,
    },
  );

export const matchSchema = object(
  {
    hosts: array(string({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$' }), {
      minItems: 1,
      description: 'Exact host names or *.example.com wildcards (one or more labels). The port in Host is ignored unless given here.',
    }),
    methods: array(string({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }), {
      minItems: 1,
      description: 'Request methods, case-sensitive as HTTP says (GET, POST, ...).',
    }),
    scheme: string({ enum: ['http', 'https'], description: 'Only requests that came in over a plain (http) or a TLS (https) listener.' }),
    path: string({ pattern: '^/', description: 'Path pattern: static segments, :param segments and a trailing * for the rest.' }),
    prefix: string({ pattern: '^/', description: 'Any path starting with this string.' }),
    headers: predicateMap('Header (case-insensitive)', HEADER_NAME),
    query: predicateMap('Query parameter'),
  },
  {
    additionalProperties: false,
    description: 'All given conditions must hold. Exactly one of path or prefix.',
  },
);

/** A route's own fields; each stage adds its field (stages/registry.ts) when the whole schema is assembled. */
const routeProperties = {
  name: string({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Unique name; appears in access logs.' }),
  match: matchSchema,
  upstream: string({ description: 'Name of an upstream under upstreams:.' }),
  retries: retriesSchema,
  timeout_ms: integer({
    minimum: 1,
    maximum: 86_400_000,
    description:
      "Longest wait for the upstream's response headers across every try and backoff, in milliseconds; exceeded → 504 SLUICE_ERR_ROUTE_TIMEOUT. The body then streams under timeouts.idle_ms.",
  }),
  fallback: fixedResponse('Served instead of the 503 when the circuit is open, no endpoint is available, or the upstream is at max_requests.'),
  preserve_host: boolean({ default: true, description: "true: forward the client's Host; false: send the endpoint's host:port." }),
};

const ROUTE = {
  additionalProperties: false,
  required: ['name', 'match'],
  description: 'One route: a match, and either an upstream to forward to or a stage that answers (respond:).',
} as const;

/** A route as config/ knows it: its own fields only. */
export const routeSchema = object(routeProperties, ROUTE);

const tlsPair = {
  cert: string({
    minLength: 1,
    description: 'PEM certificate chain file (leaf first); relative to the config file. Watched: a change is loaded within a second.',
  }),
  key: string({ minLength: 1, description: 'PEM private key file of that certificate (unencrypted); relative to the config file. Watched like cert.' }),
};

const sniEntry = object(
  {
    hosts: array(string({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' }), {
      minItems: 1,
      description: 'Server names (SNI) this pair answers: exact names or *.example.com wildcards.',
    }),
    ...tlsPair,
  },
  { additionalProperties: false, required: ['hosts', 'cert', 'key'], description: 'A certificate chosen by the server name the client asks for.' },
);

const listenerTls = object(
  {
    ...tlsPair,
    min_version: string({
      enum: ['TLSv1.2', 'TLSv1.3'],
      default: 'TLSv1.2',
      description: 'Oldest TLS version accepted. TLSv1.3 refuses TLS 1.2 handshakes (see docs/tls.md for how).',
    }),
    sni: array(sniEntry, { default: [], description: 'More certificates, picked by server name; a name with none gets cert/key.' }),
    client_ca: string({
      minLength: 1,
      description:
        'PEM CA file: a client certificate, when one is presented, must be signed by it or the handshake fails. Needs require_client_cert: false (see docs/tls.md).',
    }),
    require_client_cert: boolean({
      description:
        'true is refused at load (SLUICE_ERR_TLS_CLIENT_CERT_UNSUPPORTED): this uWebSockets.js build cannot make a client certificate mandatory. false: verify one if presented.',
    }),
  },
  { additionalProperties: false, required: ['cert', 'key'], description: 'Terminate TLS on this listener (HTTPS).' },
);

const listener = object(
  {
    host: string({ default: '0.0.0.0', description: 'Address to bind.' }),
    port: integer({ minimum: 0, maximum: 65535, default: 8080, description: "TCP port (0 = pick a free one). Env SLUICE_PORT sets the first listener's." }),
    tls: listenerTls,
    redirect_to_https: boolean({
      default: false,
      description: "Plain listener only: answer every request with 308 to the same host and path on the first TLS listener's port.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'One data-plane listener (every worker thread binds it with SO_REUSEPORT).' },
);

const listen = anyOf([listener, array(listener, { minItems: 1 })], {
  default: {},
  description: 'The data-plane listener, or a list of them (plain HTTP and HTTPS side by side).',
});

const admin = object(
  {
    host: string({ default: '127.0.0.1', description: 'Address to bind; keep it on loopback or a private network.' }),
    port: integer({ minimum: 0, maximum: 65535, default: 9901, description: 'TCP port (0 = pick a free one). Env SLUICE_ADMIN_PORT.' }),
    token: string({
      minLength: 16,
      pattern: '^[!-~]+$',
      writeOnly: true,
      description:
        'Bearer token every admin endpoint but /healthz and /readyz requires (16+ visible ASCII characters). Env SLUICE_ADMIN_TOKEN. Needed when host is not loopback. See docs/security.md.',
    }),
    token_file: string({
      minLength: 1,
      description: 'A file holding the token instead (surrounding whitespace ignored; relative to the config file), read at start and on every reload.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Admin HTTP API (healthz, readyz, upstreams, reload), served by the primary process.',
  },
);

const SEPARATOR_POLICY = ['reject', 'decode', 'keep'] as const;

const pathLimits = object(
  {
    escaped_slashes: string({
      enum: SEPARATOR_POLICY,
      default: 'reject',
      description:
        '%2F in the path (any case): reject → 400 SLUICE_ERR_BAD_PATH; decode → a real "/" before dot-segments are removed and routes match; keep → forwarded as %2F (routes match the encoded form, an upstream that decodes it may route differently; a dot-segment between encoded separators is still refused). See docs/security.md.',
    }),
    backslash: string({
      enum: SEPARATOR_POLICY,
      default: 'reject',
      description:
        'A raw "\\" or %5C in the path (the same policy for both): reject → 400; decode → "/"; keep → forwarded as %5C (same caveats as escaped_slashes: keep).',
    }),
    path_params: string({
      enum: ['reject_dot_segments', 'reject'],
      default: 'reject_dot_segments',
      description:
        '";" path parameters: reject_dot_segments → 400 only for a segment whose part before ";" (or %3B) is "." or ".." (/public/..;/admin, which Tomcat and Jetty resolve to /admin); reject → 400 for any ";" or %3B.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'How the path normaliser treats forms upstreams read differently (README "Path normalisation"). Gateway-wide: it runs before routing.',
  },
);

const limits = object(
  {
    max_header_bytes: integer({
      minimum: 1024,
      maximum: 122_880,
      default: 16384,
      description:
        'The request head, request line through the blank line (each field counted as `name: value` CRLF), in bytes; larger → 431 and the connection is closed. At most 120 KiB: uWS 20.30 resets a head above about 125 KiB before sluice sees it.',
    }),
    max_header_count: integer({
      minimum: 1,
      maximum: 48,
      default: 48,
      description:
        'Header fields in a request head (Host included); more → 431 SLUICE_ERR_TOO_MANY_HEADERS and the connection is closed. uWebSockets.js 20.30 takes at most 48 and leaves a head with more unanswered until its idle timeout (docs/security.md), so 48 is both the default and the ceiling.',
    }),
    max_body_bytes: integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 10_485_760, description: 'Request body, in bytes; larger → 413.' }),
    upstream_header_bytes: integer({
      minimum: 1024,
      maximum: 65_536,
      default: 16384,
      description:
        'An upstream response head (status line, header lines and the empty line, CRLFs included), in bytes; larger → 502 SLUICE_ERR_UPSTREAM_PROTOCOL. Each 1xx head counts on its own.',
    }),
    upstream_header_count: integer({
      minimum: 1,
      maximum: 1000,
      default: 100,
      description: 'Header lines in an upstream response head; more → 502 SLUICE_ERR_UPSTREAM_PROTOCOL.',
    }),
    allow_chunked_requests: boolean({
      default: false,
      description:
        'Accept Transfer-Encoding: chunked request bodies. Off by default (→ 411): uWebSockets.js chunk parsing cannot be validated from JS, see docs/security.md.',
    }),
    path: pathLimits,
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Request guards applied before routing.',
  },
);

const timeouts = object(
  {
    connect_ms: ms(
      'One connect to an endpoint (TCP, and the TLS handshake for https:), in milliseconds; exceeded → 504. Retried only on an endpoint the request has not tried.',
      2000,
    ),
    response_header_ms: ms("From sending the request to receiving the upstream's response headers, in milliseconds; exceeded → 504.", 15000),
    idle_ms: ms(
      'Longest silence while streaming the upstream response body (exceeded → the response is cut), or while a streamed request body waits for the upstream to take it (exceeded → 504), in milliseconds.',
      60000,
    ),
    client_body_ms: ms(
      'From the request head to the last byte of its body, in milliseconds; exceeded → 408 SLUICE_ERR_CLIENT_TIMEOUT, the connection closed and the upstream try aborted. Time while sluice holds reading paused for a slow upstream does not count. 0: no limit (uWebSockets.js still closes a body slower than 16 KiB/s, docs/security.md).',
      60000,
      0,
    ),
    drain_ms: ms('On SIGTERM/SIGINT, how long in-flight requests may take to finish, in milliseconds.', 30000, 0),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Upstream, client and lifecycle timeouts.',
  },
);

// ── log.access and log.mask (issue 19, docs/observability.md "Access log") ──

/** The access line's selectable fields, in line order (observe/access-fields.ts writes them in this order). */
export const ACCESS_LOG_FIELDS = [
  'time',
  'pid',
  'worker',
  'request_id',
  'trace_id',
  'method',
  'path',
  'query',
  'route',
  'upstream',
  'endpoint',
  'status',
  'bytes',
  'duration_ms',
  'remote',
  'code',
  'attempts',
  'scheme',
  'host',
  'bytes_in',
  'user_agent',
  'principal',
] as const;

/** What a line carried before fields were selectable, plus trace_id. */
export const DEFAULT_ACCESS_LOG_FIELDS = ACCESS_LOG_FIELDS.slice(0, ACCESS_LOG_FIELDS.indexOf('attempts') + 1);

/** An HTTP field name (RFC 9110 token), compared lower-case. */
const headerName = string({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" });

const accessLog = anyOf(
  [
    boolean(),
    object(
      {
        enabled: boolean({ default: true, description: 'Write access lines for answers below 500 (5xx and 499 are written at warn regardless).' }),
        fields: array(enumOf(ACCESS_LOG_FIELDS), {
          default: DEFAULT_ACCESS_LOG_FIELDS,
          description: 'Fields a line carries (level and type always), written in the order of docs/observability.md; trace_id only when known.',
        }),
        request_headers: array(headerName, {
          default: [],
          description: 'Request headers a line carries under "req_headers" (absent ones left out); values of log.mask.headers read [redacted].',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    default: true,
    description: 'One access-log line per request (at info): true, false, or { enabled, fields, request_headers }. See docs/observability.md.',
  },
);

const logMask = object(
  {
    headers: array(headerName, {
      default: ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'],
      description: 'Header names whose values read [redacted] in access lines (request_headers) and in structured logs.',
    }),
    query_params: array(string({ minLength: 1, maxLength: 64 }), {
      default: ['token', 'key', 'secret', 'password', 'passwd', 'auth', 'signature', 'session', 'credential'],
      description: 'A query parameter whose name contains one of these (any case) has its value logged as [redacted].',
    }),
    json_fields: array(string({ pattern: '^[^.\\[\\]"*]{1,64}$' }), {
      default: ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'client_secret', 'private_key'],
      description: 'Keys whose values read [redacted] in structured log lines: at the top level and up to two objects down.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'What log lines never show in clear; read when the gateway starts (access-line masking follows reloads).',
  },
);

const log = object(
  {
    level: string({
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'Minimum level. Env SLUICE_LOG_LEVEL.',
    }),
    access: accessLog,
    sample: number({ minimum: 0, maximum: 1, default: 1, description: 'Fraction of successful requests logged; 5xx answers are always logged.' }),
    mask: logMask,
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Structured JSON logs (pino) on stdout.',
  },
);

const metrics = object(
  {
    enabled: boolean({
      default: true,
      description:
        'Record request, upstream and stage metrics in every worker (GET /metrics on the admin listener). Off: only process, config and upstream-health metrics.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Prometheus metrics; see docs/observability.md.' },
);

const tracing = object(
  {
    sample: number({
      minimum: 0,
      maximum: 1,
      default: 0.01,
      description:
        "Share of the traces this hop starts (no valid traceparent came) whose spans are exported; an incoming traceparent's sampled flag is followed instead.",
    }),
    service_name: string({ minLength: 1, maxLength: 256, default: 'sluice', description: 'The service.name of the exported spans.' }),
    otlp: object(
      {
        endpoint: string({
          pattern: '^https?://[^\\s]+$',
          description: 'The OTLP/HTTP collector, e.g. http://127.0.0.1:4318; spans are POSTed as JSON to /v1/traces unless the URL already ends with it.',
        }),
        headers: record(string({ maxLength: 8192, pattern: '^[^\\r\\n\\u0000]*$', writeOnly: true }), {
          writeOnly: true,
          propertyNames: { pattern: HEADER_NAME },
          description: 'Headers sent with every export (an API key for the collector); never logged.',
        }),
        timeout_ms: ms('Longest wait for one export POST, in milliseconds; the batch is then dropped.', 5000),
      },
      { additionalProperties: false, required: ['endpoint'], description: 'Export spans over OTLP/HTTP (JSON encoding).' },
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'W3C trace context (traceparent, tracestate) is read, continued and sent upstream on every request; with otlp:, sampled requests are exported as spans. See docs/observability.md.',
  },
);

const upstreams = record(upstreamSchema, {
  default: {},
  propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' },
  description: 'Named upstreams.',
});

const CONFIG = { additionalProperties: false, description: 'sluice gateway configuration.' } as const;

const gatewayProperties = {
  version: integer({ enum: [1], default: 1, description: 'Config format version.' }),
  listen,
  admin,
  workers: anyOf([string({ const: 'auto' }), integer({ minimum: 1, maximum: 1024 })], {
    default: 'auto',
    description: 'Worker threads, each with its own listener and pools. auto = available cores. Env SLUICE_WORKERS.',
  }),
  limits,
  timeouts,
  log,
  metrics,
  tracing,
  trusted_proxies: array(string({ maxLength: 64 }), {
    default: [],
    description:
      'CIDR ranges (IPv4 or IPv6) of the proxies in front of sluice. Only from these peers is X-Forwarded-For believed, walked right to left past trusted addresses; otherwise the client is the TCP peer. See docs/network-policy.md.',
  }),
};

const routesDescription = 'Routes; the most specific match wins (see README).';

/** The gateway config as config/ knows it: no stage fields. Its type is GatewayConfig. */
export const configSchema = object(
  {
    ...gatewayProperties,
    upstreams,
    routes: array(routeSchema, { default: [], description: routesDescription }),
  },
  CONFIG,
);

/**
 * The whole schema: the core above with each stage's route field and gateway-wide settings added
 * (stages/registry.ts assembles them). Settings keys go before upstreams, route fields after the
 * route's own.
 */
export function assembleSchema(routeFields: Readonly<Record<string, SchemaNode>>, settings: Readonly<Record<string, SchemaNode>>): SchemaNode {
  const route = object({ ...routeProperties, ...routeFields }, ROUTE);
  return object({ ...gatewayProperties, ...settings, upstreams, routes: array(route, { default: [], description: routesDescription }) }, CONFIG);
}
