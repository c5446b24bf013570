import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPlanText } from '../../src/primary/load-plan.js';
import { type RoutableRequest, Router } from '../../src/router/router.js';

function routerFor(
  routesYaml: string,
): (method: string, path: string, extra?: { host?: string; headers?: Record<string, string>; query?: string; scheme?: 'http' | 'https' }) => string | null {
  const { plan } = loadPlanText(`upstreams:\n  u: { endpoints: [ { url: "http://127.0.0.1:1" } ] }\nroutes:\n${routesYaml}`, 'routes.yaml');
  const router = new Router(plan.routes.map((p) => ({ plan: p, route: p.name })));
  return (method, path, extra = {}) => {
    const headers = extra.headers ?? {};
    const req: RoutableRequest = {
      method,
      scheme: extra.scheme ?? 'http',
      path,
      host: extra.host ?? 'example.com',
      query: extra.query ?? '',
      header: (n) => headers[n],
    };
    const m = router.find(req);
    return m === null ? null : `${m.route}${m.params.length ? ' ' + m.params.join(',') : ''}`;
  };
}

test('static beats param beats wildcard, at every segment', () => {
  const find = routerFor(`
  - { name: wild, match: { path: "/users/*" }, upstream: u }
  - { name: param, match: { path: "/users/:id" }, upstream: u }
  - { name: static, match: { path: "/users/me" }, upstream: u }
  - { name: deep, match: { path: "/users/:id/posts/:post" }, upstream: u }
`);
  assert.equal(find('GET', '/users/me'), 'static');
  assert.equal(find('GET', '/users/42'), 'param 42');
  assert.equal(find('GET', '/users/42/posts/7'), 'deep 42,7');
  assert.equal(find('GET', '/users/42/other'), 'wild 42/other');
  assert.equal(find('GET', '/users'), 'wild ');
  assert.equal(find('GET', '/nothing'), null);
});

test('backtracks when the static branch fails its other conditions', () => {
  const find = routerFor(`
  - { name: me-post, match: { path: "/users/me", methods: [POST] }, upstream: u }
  - { name: param, match: { path: "/users/:id" }, upstream: u }
`);
  assert.equal(find('POST', '/users/me'), 'me-post');
  assert.equal(find('GET', '/users/me'), 'param me');
});

test('a full path match beats a prefix; among prefixes and wildcards the longer literal wins', () => {
  const find = routerFor(`
  - { name: root, match: { prefix: "/" }, upstream: u }
  - { name: static-prefix, match: { prefix: "/static/" }, upstream: u }
  - { name: static-img, match: { path: "/static/img/*" }, upstream: u }
  - { name: exact, match: { path: "/static/index.html" }, upstream: u }
  - { name: assets, match: { path: "/s/*" }, upstream: u }
  - { name: s-prefix-longer, match: { prefix: "/s/long" }, upstream: u }
`);
  assert.equal(find('GET', '/static/index.html'), 'exact');
  assert.equal(find('GET', '/static/css/a.css'), 'static-prefix');
  assert.equal(find('GET', '/static/img/a.png'), 'static-img a.png');
  assert.equal(find('GET', '/s/longer'), 's-prefix-longer');
  assert.equal(find('GET', '/s/x'), 'assets x');
  assert.equal(find('GET', '/anything'), 'root');
});

test('hosts: exact beats wildcard beats no host condition; port is ignored unless configured', () => {
  const find = routerFor(`
  - { name: any, match: { path: "/" }, upstream: u }
  - { name: wild, match: { path: "/", hosts: ["*.example.com"] }, upstream: u }
  - { name: exact, match: { path: "/", hosts: ["api.example.com"] }, upstream: u }
`);
  assert.equal(find('GET', '/', { host: 'api.example.com' }), 'exact');
  assert.equal(find('GET', '/', { host: 'api.example.com:8080' }), 'exact');
  assert.equal(find('GET', '/', { host: 'www.example.com' }), 'wild');
  assert.equal(find('GET', '/', { host: 'a.b.example.com' }), 'wild');
  assert.equal(find('GET', '/', { host: 'example.com' }), 'any');
  assert.equal(find('GET', '/', { host: 'other.org' }), 'any');
});

test('header and query predicates: exact value or presence', () => {
  const find = routerFor(`
  - { name: plain, match: { path: "/p" }, upstream: u }
  - { name: canary, match: { path: "/p", headers: { X-Canary: "1" } }, upstream: u }
  - { name: beta, match: { path: "/p", query: { beta: { present: true } } }, upstream: u }
  - { name: both, match: { path: "/p", headers: { x-canary: "1" }, query: { v: "2" } }, upstream: u }
`);
  assert.equal(find('GET', '/p'), 'plain');
  assert.equal(find('GET', '/p', { headers: { 'x-canary': '1' } }), 'canary');
  assert.equal(find('GET', '/p', { headers: { 'x-canary': '0' } }), 'plain');
  assert.equal(find('GET', '/p', { query: 'beta' }), 'beta');
  assert.equal(find('GET', '/p', { query: 'a=1&beta=' }), 'beta');
  assert.equal(find('GET', '/p', { headers: { 'x-canary': '1' }, query: 'v=2' }), 'both');
  assert.equal(find('GET', '/p', { query: 'v=%32' }), 'plain');
});

test('scheme: a route for https takes only TLS requests and outranks one without the condition', () => {
  const find = routerFor(`
  - { name: any, match: { prefix: "/" }, upstream: u }
  - { name: secure, match: { prefix: "/", scheme: https }, upstream: u }
  - { name: plain-only, match: { path: "/old", scheme: http }, upstream: u }
`);
  assert.equal(find('GET', '/x', { scheme: 'https' }), 'secure');
  assert.equal(find('GET', '/x', { scheme: 'http' }), 'any');
  assert.equal(find('GET', '/old', { scheme: 'http' }), 'plain-only');
  assert.equal(find('GET', '/old', { scheme: 'https' }), 'secure');
});

test('same pattern, same conditions: config order decides', () => {
  const find = routerFor(`
  - { name: first, match: { path: "/x", methods: [GET] }, upstream: u }
  - { name: second, match: { path: "/x", methods: [GET] }, upstream: u }
`);
  assert.equal(find('GET', '/x'), 'first');
  assert.equal(find('PUT', '/x'), null);
});

test('route literals are normalised like request paths', () => {
  const find = routerFor(`
  - { name: tilde, match: { path: "/%7euser/%c3%a9" }, upstream: u }
`);
  assert.equal(find('GET', '/~user/%C3%A9'), 'tilde');
});
