import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlanText } from '../../src/primary/load-plan.js';
import { compileConfig, configProblems as problems } from '../helpers/config.js';
import { runCli } from '../helpers/gateway.js';

test('the issue example config is accepted and defaulted', () => {
  const text = readFileSync(new URL('../../../config/examples/issue-contract.yaml', import.meta.url), 'utf8');
  const { config, plan } = loadPlanText(text, 'contract.yaml');
  assert.equal(config.timeouts.drain_ms, 30000);
  assert.equal(plan.routes.length, 3);
  assert.deepEqual(
    plan.upstreams[0].endpoints.map((e) => e.origin),
    ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
  );
  assert.ok(Object.isFrozen(config.routes[0].match));
});

test('unknown fields and wrong types name file, line, column and field', () => {
  const got = problems(`listen:
  host: 0.0.0.0
  prot: 8080
workers: many
limits: { max_header_bytes: 10, max_header_count: 49 }
`);
  assert.deepEqual(got, [
    'gw.yaml:3:3 listen.prot: unknown field "prot" (known: host, port, tls, redirect_to_https)',
    'gw.yaml:4:10 workers: must be "auto" or an integer ≥ 1 ≤ 1024',
    'gw.yaml:5:29 limits.max_header_bytes: must be ≥ 1024',
    'gw.yaml:5:51 limits.max_header_count: must be ≤ 48',
  ]);
});

test('max_header_bytes stops at 120 KiB, below the head size uWS 20.30 resets', () => {
  assert.deepEqual(problems('limits: { max_header_bytes: 122881 }\n'), ['gw.yaml:1:29 limits.max_header_bytes: must be ≤ 122880']);
  assert.equal(loadPlanText('limits: { max_header_bytes: 122880 }\n', 'gw.yaml').plan.limits.maxHeaderBytes, 122880);
});

test('upstream head limits: defaults in the plan, out-of-range values named', () => {
  const { plan } = loadPlanText('version: 1\n', 'gw.yaml');
  assert.equal(plan.limits.upstreamHeaderBytes, 16384);
  assert.equal(plan.limits.upstreamHeaderCount, 100);
  assert.deepEqual(problems('limits: { upstream_header_bytes: 1023, upstream_header_count: 0 }\n'), [
    'gw.yaml:1:34 limits.upstream_header_bytes: must be ≥ 1024',
    'gw.yaml:1:63 limits.upstream_header_count: must be ≥ 1',
  ]);
  assert.deepEqual(problems('limits: { upstream_header_bytes: 65537, upstream_header_count: 1001 }\n'), [
    'gw.yaml:1:34 limits.upstream_header_bytes: must be ≤ 65536',
    'gw.yaml:1:64 limits.upstream_header_count: must be ≤ 1000',
  ]);
});

test('cross-field rules: missing upstream, duplicate names, path and prefix, bad URLs', () => {
  const got = problems(`upstreams:
  users:
    endpoints:
      - url: "not a url"
      - url: http://127.0.0.1:9001/path
routes:
  - name: a
    match: { path: /a }
    upstream: nobody
  - name: a
    match: { path: /b, prefix: /b }
    upstream: users
  - name: c
    match: { path: "/c/*/d" }
    respond: { status: 200 }
    upstream: users
`);
  assert.deepEqual(got, [
    'gw.yaml:4:14 upstreams.users.endpoints[0].url: "not a url" is not a URL; write http://host:port',
    'gw.yaml:5:14 upstreams.users.endpoints[1].url: an endpoint is host:port only; put path changes in a route rewrite:',
    'gw.yaml:9:15 routes[0].upstream: no upstream named "nobody" (defined: users)',
    'gw.yaml:10:11 routes[1].name: duplicate route name "a" (first used by routes[0])',
    'gw.yaml:11:12 routes[1].match: set exactly one of path or prefix',
    'gw.yaml:14:20 routes[2].match.path: "*" may only be the last segment',
    'gw.yaml:13:5 routes[2]: set exactly one of upstream or respond',
  ]);
});

test('YAML syntax errors and duplicate keys are located', () => {
  assert.match(problems('routes: [\n  { name: a\n')[0], /^gw\.yaml:\d+:\d+ \(root\): YAML: /);
  assert.match(problems('listen: { port: 1 }\nlisten: { port: 2 }\n')[0], /^gw\.yaml:2:1 \(root\): YAML: Map keys must be unique/);
});

test('env overrides are validated and applied', () => {
  const { plan } = loadPlanText('upstreams: { u: { endpoints: [ { url: "http://127.0.0.1:1" } ] } }\n', 'gw.yaml', {
    SLUICE_PORT: '9999',
    SLUICE_ADMIN_PORT: '0',
    SLUICE_WORKERS: '3',
    SLUICE_LOG_LEVEL: 'warn',
    SLUICE_POOL_CONNECTIONS: '7',
    SLUICE_PIPELINING: '4',
  });
  assert.equal(plan.listeners[0].port, 9999);
  assert.equal(plan.listeners[0].host, '0.0.0.0', 'listen: absent gets every default of a listener');
  assert.equal(plan.admin.port, 0);
  assert.equal(plan.workers, 3);
  assert.equal(plan.log.level, 'warn');
  assert.deepEqual(plan.upstreams[0].pool, { connections: 7, pipelining: 4, keepAliveMs: 4000 });
  assert.deepEqual(problems('{}', { SLUICE_WORKERS: 'lots' }), ['environment:0:0 SLUICE_WORKERS: must be an integer from 1 to 1024, got "lots"']);
});

test('sluice validate exits 0 on a good file and 1 with every problem on a bad one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'routes:\n  - name: x\n    match: { path: /x }\n    upstream: ghost\n');
  const r = await runCli(['validate', '--config', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SLUICE_ERR_CONFIG_INVALID/);
  assert.ok(r.stderr.includes(`${bad}:4:15 routes[0].upstream: no upstream named "ghost"`), r.stderr);
  const good = await runCli(['validate', '--config', new URL('../../../config/sluice.yaml', import.meta.url).pathname]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /ok \(3 routes, 1 upstreams\)/);
  const missing = await runCli(['validate', '--config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /SLUICE_ERR_CONFIG_READ/);
});

test('the published JSON Schema is the one the gateway validates with', async () => {
  const r = await runCli(['schema']);
  assert.equal(r.code, 0);
  const published = readFileSync(new URL('../../../config/sluice.schema.json', import.meta.url), 'utf8');
  assert.deepEqual(JSON.parse(published), JSON.parse(r.stdout), 'run: node dist/src/cli.js schema > config/sluice.schema.json');
});

test('upstream rules: endpoint sources, hash_on, health and retry settings are checked with their location', () => {
  // One config, first with two schema mistakes (reported alone: cross-field rules wait for a valid
  // shape), then with those fixed, so that the cross-field mistakes show.
  const config = (weight: string, retryOn: string) => `upstreams:
  both:
    endpoints: [ { url: "http://127.0.0.1:1" } ]
    discovery: { dns: { name: api.internal, port: 80 } }
  hashed:
    balance: hash
    endpoints: [ { url: "http://127.0.0.1:1"${weight} } ]
    health:
      active: { interval_ms: 100, timeout_ms: 500 }
      passive: { eject_ms: 5000, max_eject_ms: 1000 }
routes:
  - name: r
    match: { path: /r }
    respond: { status: 200 }
    retries: { attempts: 2 }
  - name: s
    match: { path: /s }
    upstream: hashed
    retries: { ${retryOn}backoff: { base_ms: 100, max_ms: 10 } }
`;
  const got = problems(config(', weight: 2000', 'on: [connect_error, 418], '));
  assert.deepEqual(got, [
    'gw.yaml:7:55 upstreams.hashed.endpoints[0].weight: must be ≤ 1000',
    'gw.yaml:19:36 routes[1].retries.on[1]: must be one of "connect_error", "reset", "timeout", 500, 502, 503, 504',
  ]);
  const cross = problems(config('', ''));
  assert.deepEqual(cross, [
    'gw.yaml:3:5 upstreams.both: set exactly one of endpoints, discovery.dns or discovery.etcd',
    'gw.yaml:6:5 upstreams.hashed.hash_on: balance: hash needs hash_on (ip, header:NAME, cookie:NAME or query:NAME)',
    'gw.yaml:10:48 upstreams.hashed.health.passive.max_eject_ms: must be at least eject_ms',
    'gw.yaml:9:47 upstreams.hashed.health.active.timeout_ms: must not exceed interval_ms',
    'gw.yaml:12:5 routes[0]: retries, timeout_ms and fallback apply only to routes with an upstream',
    'gw.yaml:19:49 routes[1].retries.backoff.max_ms: must be at least base_ms',
  ]);
});

test('a header predicate names a header a request can carry (a token), or the route is refused', () => {
  const bad = problems(`
routes:
  - { name: r, match: { path: /x, headers: { "<img src=x>": "1" } }, respond: { body: x } }
`);
  assert.equal(bad.length, 1, bad.join('\n'));
  assert.match(bad[0], /:3:\d+ routes\[0\]\.match\.headers/);
  compileConfig(`
routes:
  - { name: r, match: { path: /x, headers: { x-tenant: "1", X-Api-Key: { present: true } } }, respond: { body: x } }
`);
});
