import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath } from '../../src/router/normalize-path.js';

test('paths that need no work are returned as they are', () => {
  for (const p of ['/', '/a', '/api/users/42', '/a.b/c-d_e~f', "/!$&'()*+,;=:@"]) assert.equal(normalizePath(p), p);
});

test('dot segments are removed and cannot climb above the root', () => {
  assert.equal(normalizePath('/api/../admin'), '/admin');
  assert.equal(normalizePath('/api/./users/'), '/api/users/');
  assert.equal(normalizePath('/a/b/..'), '/a/');
  assert.equal(normalizePath('/a/.'), '/a/');
  assert.equal(normalizePath('/.well-known/x'), '/.well-known/x');
  assert.equal(normalizePath('/a/..b/c'), '/a/..b/c');
  assert.equal(normalizePath('/..'), null);
  assert.equal(normalizePath('/a/../../etc/passwd'), null);
});

test('encoded dots are decoded before dot-segment removal', () => {
  assert.equal(normalizePath('/api/%2e%2e/admin'), '/admin');
  assert.equal(normalizePath('/api/%2E./admin'), '/admin');
  assert.equal(normalizePath('/%2e%2e/admin'), null);
});

test('unreserved characters are decoded, others keep upper-case encoding', () => {
  assert.equal(normalizePath('/%41%7euser/%7E'), '/A~user/~');
  assert.equal(normalizePath('/a%2fb'), '/a%2Fb');
  assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9');
  assert.equal(normalizePath('/a%20b'), '/a%20b');
});

test('slashes are merged', () => {
  assert.equal(normalizePath('//admin'), '/admin');
  assert.equal(normalizePath('/a//b///c/'), '/a/b/c/');
  assert.equal(normalizePath('//'), '/');
});

test('invalid paths are rejected', () => {
  for (const p of ['', 'a/b', 'http://evil.example/x', '/a\\b', '/a%zz', '/a%2', '/a%00b', '/a%0d%0ab', '/a b', '/a\u0000', '/caf\u00e9', '/a#b', '*']) {
    assert.equal(normalizePath(p), null, p);
  }
});
