import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksSecret, REDACTED, redactConfig } from '../../src/config/redact.js';
import type { SchemaNode } from '../../src/config/schema-node.js';
import { configShape } from '../../src/stages/registry.js';

// GET /config redacts by the schema: every field marked writeOnly and every field (or map key) whose
// name looks like a credential. This walks the whole assembled schema, stages' fields included, so
// a secret field added anywhere is covered the day it is declared.

type Step = string | number;

/** Header names a `headers:` map may hold whose values are credentials. */
const CREDENTIAL_KEYS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token'];

/** Every path to a value that must come out redacted. */
function secretPaths(node: SchemaNode, path: Step[], out: Step[][]): void {
  if (node.anyOf !== undefined) for (const alt of node.anyOf) secretPaths(alt, path, out);
  const last = path.at(-1);
  const leaf = node.type === 'string' || node.type === 'integer' || node.type === 'number';
  if (node.writeOnly === true || (leaf && typeof last === 'string' && looksSecret(last))) {
    out.push(path);
    return;
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) secretPaths(child, [...path, key], out);
  if (node.items !== undefined) secretPaths(node.items, [...path, 0], out);
  const values = node.additionalProperties;
  if (typeof values === 'object') {
    if (values.type === 'string') for (const key of CREDENTIAL_KEYS) secretPaths(values, [...path, key], out);
    else secretPaths(values, [...path, 'some-name'], out);
  }
}

/** A config holding only `value` at `path` (nothing else is needed to walk it). */
function sparse(path: Step[], value: string): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  return typeof head === 'number' ? [sparse(rest, value)] : { [head]: sparse(rest, value) };
}

test('every field marked secret and every field named like a credential comes out redacted', () => {
  const paths: Step[][] = [];
  secretPaths(configShape.schema, [], paths);
  const names = paths.map((p) => p.join('.'));
  // The walk must reach the secrets we know of, or it proves nothing.
  for (const known of [
    'admin.token',
    'routes.0.auth.jwt.keys.0.secret',
    'routes.0.auth.api_key.keys.0.hash',
    'routes.0.headers.request.set.authorization',
    'routes.0.headers.response.set.cookie',
    'routes.0.respond.headers.x-api-key',
  ]) {
    assert.ok(names.includes(known), `${known} is not among the secret fields found: ${names.join(', ')}`);
  }
  for (const path of paths) {
    const secret = `s3cret-value-${path.join('-')}`;
    const out = JSON.stringify(redactConfig(configShape.schema, sparse(path, secret)));
    assert.ok(!out.includes(secret), `${path.join('.')} is not redacted: ${out}`);
    assert.ok(out.includes(REDACTED), path.join('.'));
  }
});

test('passwords in URLs are redacted, the rest of the URL and every other field stay as written', () => {
  const config = {
    admin: { token: 'x'.repeat(20), token_file: '/etc/sluice/admin.token' },
    rate_limits: { redis: { url: 'redis://sluice:hunter2-pass@redis.internal:6379/2' } },
    upstreams: { a: { endpoints: [{ url: 'http://10.0.0.1:8080', weight: 1 }] } },
    routes: [
      {
        name: 'r',
        match: { path: '/x' },
        auth: { jwt: { algorithms: ['HS256'], keys: [{ kid: 'k1', secret_env: 'JWT_SECRET' }] } },
        headers: { request: { set: { 'x-tenant': 'blue' } } },
      },
    ],
  };
  const out = redactConfig(configShape.schema, config) as any;
  assert.equal(out.rate_limits.redis.url, `redis://sluice:${REDACTED}@redis.internal:6379/2`);
  assert.equal(out.admin.token, REDACTED);
  assert.equal(out.admin.token_file, '/etc/sluice/admin.token', 'where a secret is kept is not itself a secret');
  assert.equal(out.routes[0].auth.jwt.keys[0].secret_env, 'JWT_SECRET');
  assert.equal(out.routes[0].headers.request.set['x-tenant'], 'blue');
  assert.deepEqual(out.upstreams, config.upstreams);
  assert.equal(redactConfig(configShape.schema, { x: 'https://only-a-token@host/path' }) !== null, true);
  assert.deepEqual(redactConfig(configShape.schema, { x: 'https://only-a-token@host/path' }), { x: `https://${REDACTED}@host/path` });
  assert.deepEqual(redactConfig(configShape.schema, { x: 'mailto user@host' }), { x: 'mailto user@host' }, 'not a URL: kept');
});

test('a password holding @ is redacted whole; a URL query is dropped; credential-like header names are redacted', () => {
  const at = (x: string) => (redactConfig(configShape.schema, { x }) as { x: string }).x;
  assert.equal(at('redis://bob:PW1x@y@127.0.0.1:6399/0'), `redis://bob:${REDACTED}@127.0.0.1:6399/0`, 'userinfo ends at the last @');
  assert.equal(at('https://idp.example/jwks?api_key=JWKSQ8&sig=abc'), `https://idp.example/jwks?${REDACTED}`);
  assert.equal(at('https://u:p@h/a?b=c'), `https://u:${REDACTED}@h/a?${REDACTED}`);
  assert.equal(at('http://10.0.0.1:8080/path@x'), 'http://10.0.0.1:8080/path@x', 'an @ in the path is not userinfo');
  for (const name of [
    'x-auth-key',
    'X-Internal-Auth',
    'x-vault-pass',
    'ocp-apim-subscription-key',
    'x-functions-key',
    'x-tenant-key',
    'passphrase',
    'session',
    'sid',
    'sig',
  ]) {
    const out = redactConfig(configShape.schema, { h: { [name]: 'VALUE-123' } }) as { h: Record<string, string> };
    assert.equal(out.h[name], REDACTED, name);
  }
  for (const name of ['x-tenant', 'key', 'hash_on', 'x-keyboard', 'author']) {
    const out = redactConfig(configShape.schema, { h: { [name]: 'plain' } }) as { h: Record<string, string> };
    assert.equal(out.h[name], 'plain', name);
  }
});
