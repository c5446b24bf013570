import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { configProblems } from '../helpers/config.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawExchange, request } from '../helpers/http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/** log.access fields and log.mask through the real data plane: what a line carries, and what it never shows. */
const API_KEY = 'key-0d9f7a1c3e5b';
const BEARER = 'bearer-5e2a8c4f6d0b';
const QUERY_TOKEN = 'qtoken-7b1d3f5a9c2e';
const COOKIE = 'cookie-4c6e8a0b2d1f';
const sha = (k: string) => `sha256:${createHash('sha256').update(k).digest('hex')}`;

let up: TestUpstream;
let chosen: TestGateway;
let plain: TestGateway;

before(async () => {
  up = await startUpstream();
  const upstreams = `upstreams:\n  up: { endpoints: [ { url: "${up.origin}" } ] }\n`;
  chosen = await startGateway(`
log:
  access:
    fields: [request_id, method, path, query, status, trace_id, scheme, host, bytes_in, user_agent, principal]
    request_headers: [user-agent, X-Tenant, x-api-key, authorization, cookie, x-odd, x-absent]
${upstreams}
routes:
  - name: keyed
    match: { prefix: /k }
    upstream: up
    auth: { api_key: { keys: [ { id: team-a, hash: "${sha(API_KEY)}" } ] } }
  - name: open
    match: { prefix: / }
    upstream: up
`);
  plain = await startGateway(`
${upstreams}
routes:
  - name: open
    match: { prefix: / }
    upstream: up
`);
});

after(async () => {
  await Promise.all([chosen?.stop(), plain?.stop()]);
  await up?.close();
});

const accessLine = (gw: TestGateway, id: string | string[] | undefined) => gw.waitForLog((l) => l.type === 'access' && l.request_id === id);

test('a line carries the selected fields and no others', async () => {
  const r = await request(chosen.url('/open/a?page=2'), {
    method: 'POST',
    headers: { host: 'api.example.test', 'user-agent': 'probe/1.0', 'x-tenant': 'acme', 'content-type': 'text/plain' },
    body: 'hello',
  });
  assert.equal(r.status, 200);
  const line = await accessLine(chosen, r.headers['x-request-id']);
  assert.deepEqual(Object.keys(line).sort(), [
    'bytes_in',
    'host',
    'level',
    'method',
    'path',
    'principal',
    'query',
    'req_headers',
    'request_id',
    'scheme',
    'status',
    'trace_id',
    'type',
    'user_agent',
  ]);
  assert.match(line.trace_id, /^[0-9a-f]{32}$/, 'every request has a trace (worker/trace-context.ts)');
  assert.equal(line.method, 'POST');
  assert.equal(line.path, '/open/a');
  assert.equal(line.query, 'page=2');
  assert.equal(line.status, 200);
  assert.equal(line.scheme, 'http');
  assert.equal(line.host, 'api.example.test');
  assert.equal(line.bytes_in, 5);
  assert.equal(line.user_agent, 'probe/1.0');
  assert.equal(line.principal, null);
  // Config order and case do not matter; headers the request lacks are left out.
  assert.deepEqual(line.req_headers, { 'user-agent': 'probe/1.0', 'x-tenant': 'acme' });
});

test('credentials never reach the output: masked header values, masked query, the principal by id', async () => {
  const r = await request(chosen.url(`/k/b?token=${QUERY_TOKEN}&n=1`), {
    headers: { 'x-api-key': API_KEY, authorization: `Bearer ${BEARER}`, cookie: `sid=${COOKIE}` },
  });
  assert.equal(r.status, 200);
  const line = await accessLine(chosen, r.headers['x-request-id']);
  assert.equal(line.principal, 'team-a');
  assert.equal(line.query, 'token=[redacted]&n=1');
  assert.equal(line.req_headers['x-api-key'], '[redacted]');
  assert.equal(line.req_headers.authorization, '[redacted]');
  assert.equal(line.req_headers.cookie, '[redacted]');
  // The default line of the other gateway logs the query too.
  const p = await request(plain.url(`/x?token=${QUERY_TOKEN}`), { headers: { authorization: `Bearer ${BEARER}`, 'x-api-key': API_KEY } });
  await accessLine(plain, p.headers['x-request-id']);
  for (const gw of [chosen, plain]) {
    const all = JSON.stringify(gw.logs) + gw.stderr.join('');
    for (const secret of [API_KEY, BEARER, QUERY_TOKEN, COOKIE]) assert.ok(!all.includes(secret), `${secret} in the output`);
  }
});

// Non-ASCII values are covered by the writer's unit test (test/unit/access-log.test.ts).
test('odd header values stay valid JSON: quotes, backslashes, a tab, braces', async () => {
  const odd = 'say "hi"\\\there {"x":1} \'end\'';
  const { text } = await rawExchange(chosen.port, Buffer.from(`GET /odd HTTP/1.1\r\nHost: x\r\nX-Odd: ${odd}\r\nConnection: close\r\n\r\n`, 'utf8'));
  const id = /x-request-id: (\S+)/i.exec(text)?.[1];
  assert.ok(id, text);
  const line = await accessLine(chosen, id);
  assert.equal(line.req_headers['x-odd'], odd);
  assert.deepEqual(
    chosen.stderr.filter((s) => s.startsWith('stdout:')),
    [],
    'every stdout line parses as JSON',
  );
});

test('the default line carries what it always did, and the trace id', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const r = await request(plain.url('/d?page=1'), { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  const line = await accessLine(plain, r.headers['x-request-id']);
  assert.equal(line.trace_id, traceId);
  assert.deepEqual(Object.keys(line), [
    'level',
    'time',
    'pid',
    'worker',
    'type',
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
  ]);
});

test('an unknown field or a bad header name is refused with file, line:col and field', () => {
  const problems = configProblems(`
log:
  access:
    fields: [method, colour]
    request_headers: ["bad header"]
routes: []
`);
  assert.ok(
    problems.some((p) => p.startsWith('gw.yaml:4:') && p.includes('log.access.fields[1]')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith('gw.yaml:5:') && p.includes('log.access.request_headers[0]')),
    problems.join('\n'),
  );
  assert.ok(configProblems('log:\n  access: sometimes\nroutes: []\n')[0].startsWith('gw.yaml:2:'));
});

test('a reload changes what access lines carry at once; a structured-log mask change is announced', async () => {
  writeFileSync(
    plain.configFile,
    `
log:
  access: { fields: [request_id, status] }
  mask: { headers: [authorization, x-session] }
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: open
    match: { prefix: / }
    upstream: up
`,
  );
  plain.proc.kill('SIGHUP');
  await plain.waitForLog((l) => l.msg === 'config reloaded');
  const warned = await plain.waitForLog((l) => Array.isArray(l.fields) && l.fields.includes('log.mask.headers'));
  assert.equal(warned.level, 'warn');
  const r = await request(plain.url('/after'));
  const line = await accessLine(plain, r.headers['x-request-id']);
  assert.deepEqual(Object.keys(line), ['level', 'type', 'request_id', 'status']);
});
