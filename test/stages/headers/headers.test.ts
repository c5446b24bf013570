import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_LINES } from '../../../src/http/head-lines.js';
import { type ResponseHead, setHeader, type UpstreamRequestHead } from '../../../src/pipeline/phase.js';
import type { HeadersPlan } from '../../../src/stages/headers/compile.js';
import { headers } from '../../../src/stages/headers/index.js';
import { configProblems, stagePlan } from '../../helpers/config.js';

// Config tier and unit tier; through the gateway: through-gateway.test.ts beside this file.

const config = (headersYaml: string, target = 'upstream: u') => `upstreams: { u: { endpoints: [ { url: "http://127.0.0.1:1" } ] } }
routes:
  - name: r
    match: { prefix: / }
    ${target}
    headers: ${headersYaml}
`;

const stage = (headersYaml: string) => headers.instantiate(stagePlan<HeadersPlan>(config(headersYaml), 'headers', 'r')!, undefined as never);

test("request edits: set replaces every header of its name (the client's too), remove drops them, names case-insensitive", () => {
  const s = stage('{ request: { set: { X-User: svc, X-Forwarded-Proto: https }, remove: [Cookie, x-forwarded-for] } }');
  const head: UpstreamRequestHead = {
    path: '/',
    query: '',
    headers: ['x-user', 'spoofed', 'cookie', 'a=1', 'accept', '*/*', 'x-user', 'again', 'x-forwarded-for', '10.0.0.1', 'x-forwarded-proto', 'http'],
  };
  s.onUpstreamRequest!(undefined as never, head);
  assert.deepEqual(head.headers, ['accept', '*/*', 'x-user', 'svc', 'x-forwarded-proto', 'https']);
});

test("response edits: set replaces the upstream's header and an earlier stage's; remove drops both", () => {
  const s = stage('{ response: { set: { Cache-Control: no-store, RateLimit: hidden }, remove: [Server] } }');
  const head: ResponseHead = { status: 200, upstream: NO_LINES, connectionNamed: null, length: 2, set: null, remove: null };
  setHeader(head, 'ratelimit', '"a";r=1;t=0'); // set by rate_limit, which runs before headers
  s.onResponse!(undefined as never, head);
  assert.deepEqual(head.set, ['ratelimit', 'hidden', 'cache-control', 'no-store']);
  assert.deepEqual(head.remove, ['server']);
  assert.equal(s.onUpstreamRequest, undefined, 'a direction without edits adds no phase');
});

test("framing and sluice's own headers, Host removal, set+remove of one name, CR/LF and upstream-less routes are refused with their place", () => {
  assert.deepEqual(
    configProblems(config('{ request: { set: { Content-Length: "5" }, remove: [host] }, response: { set: { via: x }, remove: [Transfer-Encoding] } }')),
    [
      'gw.yaml:6:50 routes[0].headers.request.set.Content-Length: content-length is written by sluice itself; it cannot be set',
      'gw.yaml:6:66 routes[0].headers.request.remove[0]: host is needed or written by sluice itself; it cannot be removed',
      'gw.yaml:6:99 routes[0].headers.response.set.via: via is written by sluice itself; it cannot be set',
      'gw.yaml:6:113 routes[0].headers.response.remove[0]: transfer-encoding is needed or written by sluice itself; it cannot be removed',
    ],
  );
  assert.deepEqual(configProblems(config('{ response: { set: { x-a: "1" }, remove: [X-A] } }')), [
    'gw.yaml:6:56 routes[0].headers.response.remove[0]: x-a is also under set; keep one of the two',
  ]);
  assert.deepEqual(configProblems(config('{ request: { set: { x-a: "a\\r\\nx-b: c" } } }')), [
    'gw.yaml:6:39 routes[0].headers.request.set.x-a: header values may not contain CR, LF or NUL',
  ]);
  assert.deepEqual(configProblems(config('{ request: { set: { X-A: "1", x-a: "2" }, remove: [X-Request-Id] } }')), [
    'gw.yaml:6:49 routes[0].headers.request.set.x-a: x-a is set twice (names are case-insensitive); keep one',
    'gw.yaml:6:65 routes[0].headers.request.remove[0]: x-request-id is needed or written by sluice itself; it cannot be removed',
  ]);
  assert.deepEqual(configProblems(config('{ response: { remove: [server] } }', 'respond: { status: 200 }')), [
    'gw.yaml:6:14 routes[0].headers: has no effect on a route without an upstream; put headers in respond: instead',
  ]);
});
