import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CorsPlan } from '../../../src/stages/cors/compile.js';
import { compileConfig, configProblems, stagePlan } from '../../helpers/config.js';

const base = `
upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:9" } ] }
routes:
  - name: api
    match: { prefix: /api/, methods: [GET, POST] }
    upstream: up
`;

test('origins "*" with credentials: true is refused at the credentials field, with file:line:col', () => {
  const problems = configProblems(`${base}    cors:\n      origins: "*"\n      credentials: true\n`);
  assert.deepEqual(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^gw\.yaml:10:20 routes\[0\]\.cors\.credentials: cannot be true with origins: "\*"/);
});

test('an origin with a path or a trailing slash is refused', () => {
  const problems = configProblems(`${base}    cors: { origins: ["https://app.example.com/", "https://ok.example.com:8443"] }\n`);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /routes\[0\]\.cors\.origins\[0\]: "https:\/\/app\.example\.com\/" is not an origin/);
});

test('defaults, lower-casing, and a method-restricted route also matches OPTIONS (for preflights only)', () => {
  const yaml = `${base}    cors: { origins: ["https://App.example.com"], headers: [Content-Type, X-Token] }\n`;
  const plan = stagePlan<CorsPlan>(yaml, 'cors', 'api')!;
  assert.deepEqual(plan.origins, ['https://app.example.com']);
  assert.equal(plan.allowMethods, 'GET, HEAD, POST');
  assert.equal(plan.allowHeaders, 'content-type, x-token');
  assert.equal(plan.maxAge, '600');
  assert.equal(plan.preflightOnly, true);
  assert.deepEqual(compileConfig(yaml).plan.routes[0].methods, ['GET', 'POST', 'OPTIONS']);
});

test("an origin with the scheme's default port (browsers leave it out) and cors: on a respond: route are refused", () => {
  const ports = configProblems(`${base}    cors: { origins: ["https://a.example.com:443", "http://b.example.com:80", "http://c.example.com:443"] }\n`);
  assert.equal(ports.length, 2, ports.join('\n'));
  assert.match(ports[0], /cors\.origins\[0\]: "https:\/\/a\.example\.com:443" names the scheme's default port/);
  assert.match(ports[1], /cors\.origins\[1\]: "http:\/\/b\.example\.com:80" names the scheme's default port/);
  const local = configProblems(`routes:\n  - name: hi\n    match: { path: /hi }\n    respond: { body: hi }\n    cors: { origins: "*" }\n`);
  assert.equal(local.length, 1, local.join('\n'));
  assert.match(local[0], /routes\[0\]\.cors: needs a route with an upstream/);
});
