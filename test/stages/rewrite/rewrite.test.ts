import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpstreamRequestHead } from '../../../src/pipeline/phase.js';
import type { RewritePlan } from '../../../src/stages/rewrite/compile.js';
import { rewrite } from '../../../src/stages/rewrite/index.js';
import { configProblems, stagePlan } from '../../helpers/config.js';

// Config tier and unit tier; through the gateway: test/integration/proxy.test.ts ("strip_prefix, query intact").

const config = (rewriteYaml: string, target = 'upstream: u') => `upstreams: { u: { endpoints: [ { url: "http://127.0.0.1:1" } ] } }
routes:
  - name: r
    match: { prefix: / }
    ${target}
    rewrite: ${rewriteYaml}
`;

function rewritten(rewriteYaml: string, path: string): string {
  const plan = stagePlan<RewritePlan>(config(rewriteYaml), 'rewrite', 'r')!;
  const head: UpstreamRequestHead = { path, query: '', headers: [] };
  rewrite.instantiate(plan, undefined as never).onUpstreamRequest!(undefined as never, head);
  return head.path;
}

test('strip_prefix strips only at a segment boundary and never leaves an empty path', () => {
  assert.equal(rewritten('{ strip_prefix: /api }', '/api/users'), '/users');
  assert.equal(rewritten('{ strip_prefix: /api }', '/api'), '/');
  assert.equal(rewritten('{ strip_prefix: /api }', '/apiary'), '/apiary');
  assert.equal(rewritten('{ strip_prefix: /api/ }', '/api/users'), '/users', 'a trailing slash in config is the same prefix');
});

test('add_prefix applies after strip_prefix; "/" adds nothing; an empty rewrite compiles to no stage', () => {
  assert.equal(rewritten('{ strip_prefix: /api, add_prefix: /internal }', '/api/v1/x'), '/internal/v1/x');
  assert.equal(rewritten('{ add_prefix: / }', '/x'), '/x');
  assert.equal(stagePlan(config('{}'), 'rewrite', 'r'), undefined);
});

test('a rewrite on a route without an upstream, or a prefix outside RFC 3986 path characters, is refused at load', () => {
  assert.deepEqual(configProblems(config('{ strip_prefix: /api }', 'respond: { status: 200 }')), [
    'gw.yaml:6:14 routes[0].rewrite: has no effect on a route without an upstream; remove it',
  ]);
  const bad = configProblems(config('{ add_prefix: "/a b" }'));
  assert.equal(bad.length, 1);
  assert.match(bad[0], /routes\[0\]\.rewrite\.add_prefix: "\/a b" must match/);
});

test('prefixes that are not normalised paths are refused at load, so the rewritten path stays normalised', () => {
  for (const [yaml, why] of [
    ['{ add_prefix: /v1/.. }', 'is not a normalised path (it normalises to "/")'],
    ['{ add_prefix: /v1//x }', 'is not a normalised path (it normalises to "/v1/x")'],
    ['{ add_prefix: /v1/%2e%2e/x }', 'is not a normalised path (it normalises to "/x")'],
    ['{ add_prefix: /a%2Fb }', 'is not a valid path: an encoded slash %2F (limits.path.escaped_slashes)'],
    ['{ strip_prefix: /a/..;/b }', 'is not a valid path: a dot-segment with a ";" parameter (limits.path.path_params)'],
    ['{ add_prefix: /..;x }', 'is not a valid path: a dot-segment with a ";" parameter (limits.path.path_params)'],
  ]) {
    const bad = configProblems(config(yaml));
    assert.equal(bad.length, 1, yaml);
    assert.match(bad[0], /routes\[0\]\.rewrite\.(add|strip)_prefix: /, yaml);
    assert.ok(bad[0].endsWith(why), bad[0]);
  }
  assert.equal(rewritten('{ strip_prefix: /api/, add_prefix: /v1/ }', '/api/x'), '/v1/x', 'trailing slashes stay accepted');
});
