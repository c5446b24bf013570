import { ES_PUBLIC_PEM, HS_SECRET, tokens } from './auth-tokens.js';
import { merged, type Overlay } from './variants.js';

/**
 * What `npm run perf` measures. Each scenario runs against the origin directly and through sluice,
 * interleaved, with the same load; the ratio sluice/direct is the number that matters.
 * Add one scenario per stage as stages land (auth, rate limit...).
 */
export interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly method: 'GET' | 'POST';
  /** Path sent to sluice; the direct run sends `directPath` (the path sluice forwards). */
  readonly path: string;
  readonly directPath: string;
  readonly body?: Buffer;
  /** Open a new connection for every request (Connection: close; autocannon's reconnectRate: 1 sends nothing). */
  readonly newConnectionPerRequest?: boolean;
  /** Bearer tokens to send, taken in turn across all connections (auth scenarios); made on first use. */
  readonly tokens?: () => readonly string[];
}

export const MANY_ROUTES = 1000;
const BALANCERS = ['round_robin', 'weighted', 'least_outstanding', 'latency', 'hash'] as const;

export const scenarios: readonly Scenario[] = [
  { name: 'tiny-get', what: 'GET, 11-byte response, keep-alive', method: 'GET', path: '/tiny', directPath: '/tiny' },
  { name: 'get-4k', what: 'GET, 4 KiB response', method: 'GET', path: '/4k', directPath: '/4k' },
  { name: 'get-64k', what: 'GET, 64 KiB response', method: 'GET', path: '/64k', directPath: '/64k' },
  { name: 'post-64k', what: 'POST 64 KiB body, 2-byte response', method: 'POST', path: '/upload', directPath: '/upload', body: Buffer.alloc(65536, 'c') },
  {
    name: 'many-routes',
    what: `${MANY_ROUTES} path + ${MANY_ROUTES} prefix routes, the request matches the last prefix route`,
    method: 'GET',
    path: `/svc${MANY_ROUTES - 1}/items/42`,
    directPath: '/items/42',
  },
  {
    name: 'rate-limited',
    what: 'tiny GET through a route with a local rate limit per client IP (never reached) and RateLimit headers: compare with tiny-get',
    method: 'GET',
    path: '/limited/tiny',
    directPath: '/tiny',
  },
  {
    name: 'new-connection',
    what: 'tiny GET on a new connection per request',
    method: 'GET',
    path: '/tiny',
    directPath: '/tiny',
    newConnectionPerRequest: true,
  },
  ...(
    [
      ['auth-hs256-hit', 'HS256', '/auth-hs/tiny', tokens.hsHit, 'one token again and again: verified once, then the verified-token cache'],
      ['auth-hs256-miss', 'HS256', '/auth-hs/tiny', tokens.hsMiss, '20,000 distinct tokens in turn: a signature check per request'],
      ['auth-es256-hit', 'ES256', '/auth-es/tiny', tokens.esHit, 'one token again and again: verified once, then the verified-token cache'],
      ['auth-es256-miss', 'ES256', '/auth-es/tiny', tokens.esMiss, '20,000 distinct tokens in turn: a signature check per request'],
    ] as const
  ).map(
    ([name, alg, path, t, what]): Scenario => ({
      name,
      what: `tiny GET through auth: { jwt } (${alg}, aud checked, sub forwarded), ${what}: compare with tiny-get`,
      method: 'GET',
      path,
      directPath: '/tiny',
      tokens: t,
    }),
  ),
  ...BALANCERS.map(
    (b): Scenario => ({
      name: `balance-${b}`,
      what: `tiny GET to an upstream of 2 endpoints (127.0.0.1, 127.0.0.2) with balance: ${b}: compare with balance-round_robin`,
      method: 'GET',
      path: `/lb-${b}/tiny`,
      directPath: '/tiny',
    }),
  ),
];

/** The suite's top-level settings besides upstreams and routes; a variant's overlay is merged into them. */
const SETTINGS: Overlay = { log: { level: 'info', access: true } };

/** The gateway config the suite runs: the scenario routes plus the many-routes table, with a variant's overlay. */
export function gatewayConfig(originPort: number, connections: number, overlay: Overlay = {}): string {
  if ('upstreams' in overlay || 'routes' in overlay) throw new Error('perf: a variant overlay sets top-level settings, not upstreams or routes');
  const lines = [
    // JSON is YAML (flow style): each setting on one line.
    ...Object.entries(merged(SETTINGS, overlay)).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
    'upstreams:',
    `  origin: { endpoints: [ { url: "http://127.0.0.1:${originPort}" } ], pool: { connections: ${connections} } }`,
    ...BALANCERS.map(
      (b) =>
        `  lb-${b}: { balance: ${b},${b === 'hash' ? ' hash_on: ip,' : ''} endpoints: [ { url: "http://127.0.0.1:${originPort}", weight: 2 }, { url: "http://127.0.0.2:${originPort}" } ], pool: { connections: ${connections} } }`,
    ),
    'routes:',
    '  - { name: tiny, match: { path: /tiny }, upstream: origin }',
    '  - { name: sized, match: { path: "/:size" }, upstream: origin }',
    '  - { name: upload, match: { path: /upload, methods: [POST] }, upstream: origin }',
    '  - name: limited',
    '    match: { prefix: /limited/ }',
    '    upstream: origin',
    '    rewrite: { strip_prefix: /limited }',
    '    rate_limit: [ { name: per-ip, key: ip, rate: 1000000, per: 1s } ]',
    ...[
      ['hs', 'HS256', `{ kid: hs, secret: "${HS_SECRET}" }`],
      ['es', 'ES256', `{ kid: es, pem: ${JSON.stringify(ES_PUBLIC_PEM)} }`],
    ].flatMap(([name, alg, key]) => [
      `  - name: auth-${name}`,
      `    match: { prefix: /auth-${name}/ }`,
      '    upstream: origin',
      `    rewrite: { strip_prefix: /auth-${name} }`,
      `    auth: { jwt: { algorithms: [${alg}], keys: [ ${key} ], audience: perf, forward_claims: { sub: x-user-id } } }`,
    ]),
  ];
  for (const b of BALANCERS) {
    lines.push(`  - { name: lb-${b}, match: { prefix: /lb-${b}/ }, upstream: lb-${b}, rewrite: { strip_prefix: /lb-${b} } }`);
  }
  for (let i = 0; i < MANY_ROUTES; i++) {
    lines.push(`  - { name: p${i}, match: { path: "/api${i}/users/:id" }, upstream: origin }`);
    lines.push(`  - { name: s${i}, match: { prefix: /svc${i}/ }, upstream: origin, rewrite: { strip_prefix: /svc${i} } }`);
  }
  return lines.join('\n') + '\n';
}
