import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalReply } from '../../../src/pipeline/phase.js';
import { respond } from '../../../src/stages/respond/index.js';
import { configProblems, stagePlan } from '../../helpers/config.js';

// Config tier and unit tier; through the gateway: test/integration/proxy.test.ts ("a respond: route answers").

const route = (respondYaml: string, extra = '') => `upstreams: { u: { endpoints: [ { url: "http://127.0.0.1:1" } ] } }
routes:
  - name: r
    match: { path: / }
    respond: ${respondYaml}
${extra}`;

test('respond: compiles once into the answer: lower-case header names, status and body as written', () => {
  const reply = stagePlan<LocalReply>(route('{ status: 418, body: "tea", headers: { Content-Type: text/plain } }'), 'respond', 'r')!;
  assert.deepEqual(reply, { status: 418, code: null, headers: [['content-type', 'text/plain']], body: 'tea' });
  const stage = respond.instantiate(reply, undefined as never);
  assert.equal(stage.onRequest!(undefined as never), reply, 'every request gets the answer made at compile time');
});

test('respond: header values may not smuggle CR/LF; a respond route has no upstream, retries or fallback', () => {
  const crlf = configProblems(route('{ headers: { x-a: "a\\r\\nset-cookie: x" } }'));
  assert.deepEqual(crlf, ['gw.yaml:5:32 routes[0].respond.headers.x-a: header values may not contain CR, LF or NUL']);
  const both = configProblems(route('{ status: 200 }', '    upstream: u\n'));
  assert.deepEqual(both, ['gw.yaml:3:5 routes[0]: set exactly one of upstream or respond']);
  const retries = configProblems(route('{ status: 200 }', '    retries: { attempts: 2 }\n'));
  assert.deepEqual(retries, ['gw.yaml:3:5 routes[0]: retries, timeout_ms and fallback apply only to routes with an upstream']);
});
