import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRoutes } from '../../src/compile/route-table.js';
import { loadPlanText } from '../../src/primary/load-plan.js';
import { inMatchOrder } from '../../src/router/route-order.js';
import { type RoutableRequest, Router } from '../../src/router/router.js';

// GET /routes lists routes in "match order": for any request, the first listed route that matches
// it on its own must be the route the router picks among all of them.

const ROUTES = `
  - { name: wild-users, match: { path: "/users/*" }, upstream: u }
  - { name: param-user, match: { path: "/users/:id" }, upstream: u }
  - { name: me, match: { path: "/users/me" }, upstream: u }
  - { name: me-post, match: { path: "/users/me", methods: [POST] }, upstream: u }
  - { name: posts, match: { path: "/users/:id/posts/:post" }, upstream: u }
  - { name: param-wild, match: { path: "/users/:id/*" }, upstream: u }
  - { name: api-prefix, match: { prefix: "/api" }, upstream: u }
  - { name: api-v1-prefix, match: { prefix: "/api/v1/" }, upstream: u }
  - { name: api-wild, match: { path: "/api/*" }, upstream: u }
  - { name: api-v1-admin, match: { prefix: "/api/v1/", hosts: [admin.example.com] }, upstream: u }
  - { name: api-v1-star-host, match: { prefix: "/api/v1/", hosts: ["*.example.com"] }, upstream: u }
  - { name: api-v1-beta, match: { prefix: "/api/v1/", headers: { x-beta: { present: true } } }, upstream: u }
  - { name: param-then-static, match: { path: "/:tenant/status" }, upstream: u }
  - { name: root-prefix, match: { prefix: "/" }, upstream: u }
  - { name: https-only, match: { path: "/secure", scheme: https }, upstream: u }
  - { name: secure, match: { path: "/secure" }, upstream: u }
  - { name: token-query, match: { prefix: "/q", query: { token: abc } }, upstream: u }
`;

const REQUESTS: Array<[string, string, Partial<Pick<RoutableRequest, 'host' | 'query' | 'scheme'>> & { headers?: Record<string, string> }]> = [
  ['GET', '/users/me', {}],
  ['POST', '/users/me', {}],
  ['GET', '/users/42', {}],
  ['GET', '/users/42/posts/7', {}],
  ['GET', '/users/42/posts', {}],
  ['GET', '/users/42/other/deep', {}],
  ['GET', '/users', {}],
  ['GET', '/api', {}],
  ['GET', '/api/x', {}],
  ['GET', '/api/v1/things', {}],
  ['GET', '/api/v1/things', { host: 'admin.example.com' }],
  ['GET', '/api/v1/things', { host: 'www.example.com' }],
  ['GET', '/api/v1/things', { headers: { 'x-beta': '1' } }],
  ['GET', '/api/v1/things', { host: 'admin.example.com', headers: { 'x-beta': '1' } }],
  ['GET', '/acme/status', {}],
  ['GET', '/users/status', {}],
  ['GET', '/secure', {}],
  ['GET', '/secure', { scheme: 'https' }],
  ['GET', '/q', { query: 'token=abc' }],
  ['GET', '/q', {}],
  ['GET', '/elsewhere/deep', {}],
];

const req = (method: string, path: string, o: (typeof REQUESTS)[number][2]): RoutableRequest => ({
  method,
  path,
  scheme: o.scheme ?? 'http',
  host: o.host ?? 'example.com',
  query: o.query ?? '',
  header: (n) => o.headers?.[n],
});

function planOf(routes: string) {
  return loadPlanText(`upstreams:\n  u: { endpoints: [ { url: "http://127.0.0.1:1" } ] }\nroutes:\n${routes}`, 'routes.yaml').plan;
}

test('the first route in match order that matches a request alone is the one the router picks', () => {
  const plan = planOf(ROUTES);
  const router = new Router(plan.routes.map((p) => ({ plan: p, route: p.name })));
  const alone = plan.routes.map((p) => ({ name: p.name, router: new Router([{ plan: p, route: p.name }]) }));
  const order = inMatchOrder(plan.routes).map((p) => alone.find((a) => a.name === p.name)!);
  for (const [method, path, o] of REQUESTS) {
    const r = req(method, path, o);
    const picked = router.find(r)?.route ?? null;
    const firstListed = order.find((a) => a.router.find(r) !== null)?.name ?? null;
    assert.equal(firstListed, picked, `${method} ${path} ${JSON.stringify(o)}`);
  }
});

test('match order is the same whatever order the config lists the routes in', () => {
  const lines = ROUTES.split('\n').filter((l) => l.trim() !== '');
  const forward = inMatchOrder(planOf(`${lines.join('\n')}\n`).routes).map((r) => r.name);
  const backward = inMatchOrder(planOf(`${[...lines].reverse().join('\n')}\n`).routes).map((r) => r.name);
  // Only true ties (same path and conditions) fall back to config order; these routes have none.
  assert.deepEqual(backward, forward);
  // Full path matches first (static before :param); then * patterns and prefixes, longer literal first.
  assert.deepEqual(forward, [
    'https-only',
    'secure',
    'me-post',
    'me',
    'posts',
    'param-user',
    'param-then-static',
    'api-v1-admin',
    'api-v1-star-host',
    'api-v1-beta',
    'api-v1-prefix',
    'param-wild',
    'wild-users',
    'api-wild',
    'api-prefix',
    'token-query',
    'root-prefix',
  ]);
});

test('describeRoutes shows the match, the stages in pipeline order and a retry summary, never a credential value', () => {
  const plan = planOf(`
  - name: keyed
    match: { path: "/k/:id", methods: [GET], hosts: ["*.example.com"], headers: { x-api-key: "plain-key-value-1234", x-env: prod } }
    upstream: u
    timeout_ms: 900
    retries: { attempts: 2, on: [connect_error, 503] }
    headers: { request: { set: { x-a: b } } }
    cors: { origins: ["https://app.example.com"] }
  - { name: hello, match: { prefix: "/" }, respond: { body: hi } }
`);
  const { routes } = describeRoutes(plan) as { routes: any[] };
  assert.deepEqual(
    routes.map((r) => r.name),
    ['keyed', 'hello'],
  );
  const keyed = routes[0];
  assert.deepEqual(keyed.match, {
    hosts: ['*.example.com'],
    methods: ['GET', 'OPTIONS'],
    scheme: null,
    path: '/k/:id',
    prefix: null,
    headers: { 'x-api-key': '[redacted]', 'x-env': 'prod' },
    query: null,
  });
  assert.deepEqual(keyed.stages, ['cors', 'headers'], 'pipeline order, not YAML order');
  assert.equal(keyed.upstream, 'u');
  assert.equal(keyed.timeout_ms, 900);
  assert.deepEqual(keyed.retries, {
    attempts: 2,
    on: ['connect_error', 503],
    per_try_timeout_ms: 15000,
    non_idempotent: false,
    backoff_ms: { base: 25, max: 250 },
  });
  assert.equal(routes[1].upstream, null);
  assert.deepEqual(routes[1].stages, ['respond']);
  assert.equal(routes[1].retries, null);
  assert.ok(!JSON.stringify(routes).includes('plain-key-value-1234'));
});
