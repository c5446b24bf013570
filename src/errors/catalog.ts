/**
 * Every error a user can see: in a JSON error body, a log line, or a `sluice validate` report.
 * Codes are stable API: clients, dashboards and retries key on them. Never rename one; add a new code.
 * The README's error table is checked against this list in both directions (test/internals).
 */
export type ErrorSource = 'downstream' | 'upstream' | 'internal' | 'config' | 'startup';

export interface CatalogEntry {
  readonly status: number;
  readonly source: ErrorSource;
  /** What a reader should do about it: shown in error bodies and logs. */
  readonly message: string;
}

export const catalog = {
  SLUICE_ERR_ROUTE_NOT_FOUND: { status: 404, source: 'downstream', message: 'No route matches this host, method and path.' },
  SLUICE_ERR_BAD_REQUEST: { status: 400, source: 'downstream', message: 'The request is malformed or its framing is ambiguous; it was not forwarded.' },
  SLUICE_ERR_BAD_PATH: {
    status: 400,
    source: 'downstream',
    message: 'The request path is invalid (bad percent-encoding or UTF-8, control bytes, a form limits.path refuses, or it climbs above the root).',
  },
  SLUICE_ERR_LENGTH_REQUIRED: {
    status: 411,
    source: 'downstream',
    message: 'Send the request body with Content-Length; chunked request bodies are disabled on this gateway (limits.allow_chunked_requests).',
  },
  SLUICE_ERR_BODY_TOO_LARGE: { status: 413, source: 'downstream', message: 'The request body is larger than limits.max_body_bytes.' },
  SLUICE_ERR_HEADERS_TOO_LARGE: { status: 431, source: 'downstream', message: 'The request headers are larger than limits.max_header_bytes.' },
  SLUICE_ERR_CLIENT_TIMEOUT: {
    status: 408,
    source: 'downstream',
    message: 'The request body did not arrive within timeouts.client_body_ms; the connection is closed. Send the body faster, or ask for a longer timeout.',
  },
  SLUICE_ERR_TOO_MANY_HEADERS: { status: 431, source: 'downstream', message: 'The request has more header fields than limits.max_header_count.' },
  SLUICE_ERR_RATE_LIMITED: { status: 429, source: 'downstream', message: 'Rate limit exceeded; retry after the number of seconds in Retry-After.' },
  SLUICE_ERR_TOO_MANY_IN_FLIGHT: { status: 429, source: 'downstream', message: 'Too many requests of yours are in flight at once; wait for some to finish.' },
  SLUICE_ERR_RATE_LIMIT_STORE: {
    status: 503,
    source: 'internal',
    message: 'The rate-limit store could not answer (Redis slow or down, or the local table full) and this limit denies then; retry shortly.',
  },
  SLUICE_ERR_AUTH_MISSING: {
    status: 401,
    source: 'downstream',
    message: "This route needs credentials: send Authorization: Bearer <token>, or the route's API key.",
  },
  SLUICE_ERR_AUTH_INVALID_TOKEN: {
    status: 401,
    source: 'downstream',
    message: 'The bearer token was refused (malformed, bad signature, algorithm or key id not accepted, wrong issuer, audience or claims); get a new token.',
  },
  SLUICE_ERR_AUTH_TOKEN_EXPIRED: { status: 401, source: 'downstream', message: 'The bearer token has expired (exp, or older than max_age_s); get a new one.' },
  SLUICE_ERR_AUTH_TOKEN_NOT_YET_VALID: {
    status: 401,
    source: 'downstream',
    message: "The bearer token is not valid yet (its nbf is in the future); wait, or check the issuer's clock.",
  },
  SLUICE_ERR_AUTH_INSUFFICIENT_SCOPE: {
    status: 403,
    source: 'downstream',
    message: 'The token is valid but lacks a scope this route needs (WWW-Authenticate names them); ask for a token with that scope.',
  },
  SLUICE_ERR_AUTH_INVALID_API_KEY: { status: 401, source: 'downstream', message: 'The API key is not accepted; check the key, or ask for a new one.' },
  SLUICE_ERR_AUTH_KEYS_UNAVAILABLE: {
    status: 503,
    source: 'upstream',
    message: "The route's JWKS could not be fetched yet, so no token can be verified; retry shortly (the gateway log names the URL and the cause).",
  },
  SLUICE_ERR_UPSTREAM_CONNECT: { status: 502, source: 'upstream', message: 'The upstream refused or dropped the connection before answering.' },
  SLUICE_ERR_UPSTREAM_RESET: { status: 502, source: 'upstream', message: 'The upstream closed the connection while answering.' },
  SLUICE_ERR_UPSTREAM_PROTOCOL: {
    status: 502,
    source: 'upstream',
    message: 'The upstream sent a malformed HTTP response (or a head over the upstream header limits).',
  },
  SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, source: 'upstream', message: 'The upstream did not accept a connection within timeouts.connect_ms.' },
  SLUICE_ERR_UPSTREAM_TIMEOUT: { status: 504, source: 'upstream', message: 'The upstream did not send response headers within timeouts.response_header_ms.' },
  SLUICE_ERR_NO_HEALTHY_UPSTREAM: { status: 503, source: 'upstream', message: 'Every endpoint of the upstream is down; retry later.' },
  SLUICE_ERR_CIRCUIT_OPEN: {
    status: 503,
    source: 'upstream',
    message: "The upstream's circuit breaker is open after too many failures; retry after a few seconds.",
  },
  SLUICE_ERR_UPSTREAM_OVERLOADED: {
    status: 503,
    source: 'upstream',
    message: 'The upstream has as many requests in flight as max_requests / max_pending allow; retry shortly.',
  },
  SLUICE_ERR_DISCOVERY: {
    status: 503,
    source: 'config',
    message: 'Service discovery (DNS or etcd) failed; the last known endpoints stay in force until it recovers.',
  },
  SLUICE_ERR_ROUTE_TIMEOUT: { status: 504, source: 'upstream', message: "No upstream answer within the route's timeout_ms, across every try." },
  // ── network policy (docs/network-policy.md) ──
  SLUICE_ERR_IP_DENIED: {
    status: 403,
    source: 'downstream',
    message: "The client's address is not allowed by the gateway's or the route's ip: policy.",
  },
  SLUICE_ERR_CORS_REJECTED: {
    status: 403,
    source: 'downstream',
    message: "The CORS preflight asks for an origin, method or header this route's cors: policy does not allow.",
  },
  SLUICE_ERR_INTERNAL: { status: 500, source: 'internal', message: 'The gateway failed while handling this request; see its log for the request id.' },
  SLUICE_ERR_CONFIG_INVALID: { status: 400, source: 'config', message: 'The configuration is invalid; the running configuration stays in force.' },
  SLUICE_ERR_CONFIG_READ: { status: 400, source: 'config', message: 'The configuration file could not be read.' },
  SLUICE_ERR_PORT_IN_USE: {
    status: 500,
    source: 'startup',
    message: 'Another process already listens on the gateway port; stop it or choose another listen.port.',
  },
  SLUICE_ERR_UWS_FALLBACK: {
    status: 500,
    source: 'startup',
    message: 'The native uWebSockets.js binding did not load (pure-JS fallback detected); reinstall on a supported platform (linux/darwin x64/arm64, Node 20).',
  },
  SLUICE_ERR_ADMIN_OPEN: {
    status: 400,
    source: 'config',
    message:
      'The admin API would listen beyond loopback without a token; set admin.token, admin.token_file or SLUICE_ADMIN_TOKEN, or keep admin.host on 127.0.0.1.',
  },
  SLUICE_ERR_ADMIN_UNAUTHORIZED: {
    status: 401,
    source: 'downstream',
    message: 'This admin endpoint needs the admin token: send Authorization: Bearer <token> (admin.token).',
  },
  SLUICE_ERR_ADMIN_HOST: {
    status: 403,
    source: 'downstream',
    message:
      'The admin API has no token, so it answers only requests to a loopback name (localhost, 127.0.0.1, [::1]) with no foreign Origin; set admin.token to reach it by another name.',
  },
  SLUICE_ERR_ADMIN_METHOD: {
    status: 405,
    source: 'downstream',
    message: 'This admin endpoint does not answer that method; the Allow header lists the ones it does (GET and HEAD, or POST for /reload).',
  },
  // ── TLS listeners (docs/tls.md) ──
  SLUICE_ERR_TLS_PAIR: {
    status: 500,
    source: 'config',
    message:
      'A TLS certificate or key cannot be used (unreadable, key not matching, expired or not yet valid), or one in force is expired or expiring soon; fix or renew the files: the pair in force stays until a good one arrives.',
  },
  SLUICE_ERR_TLS_CLIENT_CERT_UNSUPPORTED: {
    status: 500,
    source: 'config',
    message:
      'This uWebSockets.js build cannot refuse TLS clients that present no certificate: remove require_client_cert: true, or set it to false to only verify certificates that are presented (docs/tls.md).',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof catalog;
