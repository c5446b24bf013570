import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath, pathRejection } from '../../src/router/normalize-path.js';
import { DEFAULT_PATH_POLICY, type PathPolicy } from '../../src/router/path-policy.js';

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
  assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9');
  assert.equal(normalizePath('/a%20b'), '/a%20b');
});

test('slashes are merged', () => {
  assert.equal(normalizePath('//admin'), '/admin');
  assert.equal(normalizePath('/a//b///c/'), '/a/b/c/');
  assert.equal(normalizePath('//'), '/');
});

test('invalid paths are rejected', () => {
  for (const p of [
    '',
    'a/b',
    'http://evil.example/x',
    '/a\\b',
    '/a%2fb',
    '/a%5Cb',
    '/a%zz',
    '/a%2',
    '/a%00b',
    '/a%0d%0ab',
    '/a b',
    '/a\u0000',
    '/caf\u00e9',
    '/a#b',
    '*',
  ]) {
    assert.equal(normalizePath(p), null, p);
  }
});

const policy = (over: Partial<PathPolicy>): PathPolicy => ({ ...DEFAULT_PATH_POLICY, ...over });
const DECODE = policy({ escapedSlashes: 'decode', backslash: 'decode' });
const KEEP = policy({ escapedSlashes: 'keep', backslash: 'keep' });
const NO_PARAMS = policy({ pathParams: 'reject' });

/** The rule named in the 400's detail, or the path. */
function outcome(raw: string, p: PathPolicy = DEFAULT_PATH_POLICY): string {
  const n = normalizePath(raw, p);
  return n === null ? `400: ${pathRejection()}` : n;
}

test('by default %2F, %5C and a raw backslash are refused in any case, naming the rule', () => {
  for (const p of ['/public/%2e%2e%2fadmin', '/public/..%2Fadmin', '/public/a%2fb', '/public/%2F']) {
    assert.equal(outcome(p), '400: an encoded slash %2F (limits.path.escaped_slashes)', p);
  }
  for (const p of ['/public/a%5cb', '/public/..%5Cadmin']) assert.equal(outcome(p), '400: an encoded backslash %5C (limits.path.backslash)', p);
  assert.equal(outcome('/public/..\\admin'), '400: a backslash (limits.path.backslash)');
});

test('decode turns %2F, %5C and "\\" into separators before dot-segment removal', () => {
  assert.equal(normalizePath('/public/%2e%2e%2fadmin', DECODE), '/admin');
  assert.equal(normalizePath('/public/a%2Fb', DECODE), '/public/a/b');
  assert.equal(normalizePath('/public/a%2f..%2f..%2fadmin', DECODE), '/admin');
  assert.equal(normalizePath('/public/..\\admin', DECODE), '/admin');
  assert.equal(normalizePath('/public/x/%2e%2e%5c..%5cadmin', DECODE), '/admin');
  assert.equal(normalizePath('/%2F%2Fevil.example/x', DECODE), '/evil.example/x');
  assert.equal(normalizePath('/public/%2F', DECODE), '/public/');
  assert.equal(normalizePath('/public/%2e%2e%2f%2e%2e%2fadmin', DECODE), null, 'climbing above the root is still refused');
  assert.equal(normalizePath('/a%2Fb', policy({ escapedSlashes: 'decode' })), '/a/b');
  assert.equal(normalizePath('/a%5Cb', policy({ escapedSlashes: 'decode' })), null, 'backslash keeps its own policy');
});

test('keep forwards encoded separators upper-cased, but never a dot-segment between them', () => {
  assert.equal(normalizePath('/repos/a%2fb/files', KEEP), '/repos/a%2Fb/files');
  assert.equal(normalizePath('/public/a\\b', KEEP), '/public/a%5Cb', 'a raw backslash is sent encoded');
  assert.equal(normalizePath('/public/a%5cb', KEEP), '/public/a%5Cb');
  assert.equal(normalizePath('/public/%2F', KEEP), '/public/%2F');
  for (const p of [
    '/public/%2e%2e%2fadmin',
    '/public/..%2Fadmin',
    '/public/a%2F..%2F..%2Fadmin',
    '/public/.%2Fa',
    '/public/a%2F.',
    '/public/..\\admin',
    '/public/%5c..%5cadmin',
    '/public/a%2F..;%2Fb',
  ]) {
    assert.equal(outcome(p, KEEP), '400: a dot-segment between encoded separators (limits.path)', p);
  }
  assert.equal(outcome('/%2F%2Fevil.example/x', KEEP), '400: an encoded separator may not start the path (limits.path)');
  assert.equal(outcome('/a/../%5Cevil', KEEP), '400: an encoded separator may not start the path (limits.path)');
  assert.equal(normalizePath('/public/..a%2Fb..', KEEP), '/public/..a%2Fb..', 'dots that are not a whole piece are ordinary');
  assert.equal(normalizePath('/public/%252e%252e%252f', KEEP), '/public/%252e%252e%252f', 'an encoded "%" is no separator');
});

test('path_params: a dot-segment before ";" is refused under every option; reject refuses every ";"', () => {
  for (const pol of [DEFAULT_PATH_POLICY, DECODE, KEEP]) {
    for (const p of ['/public/..;/admin', '/public/..;x=1/admin', '/public/.;/a', '/public/%2e%2e;/admin', '/public/..%3b/admin', '/public/..%3B/admin']) {
      assert.equal(outcome(p, pol), '400: a dot-segment with a ";" parameter (limits.path.path_params)', p);
    }
    assert.equal(normalizePath('/public/a;v=1/b;jsessionid=x', pol), '/public/a;v=1/b;jsessionid=x');
    assert.equal(normalizePath('/public/...;/b', pol), '/public/...;/b', '"..." is no dot-segment');
  }
  assert.equal(outcome('/public/a;v=1', NO_PARAMS), '400: a ";" path parameter (limits.path.path_params)');
  assert.equal(outcome('/public/a%3bv=1', NO_PARAMS), '400: an encoded ";" path parameter (limits.path.path_params)');
  assert.equal(outcome('/public/..;/admin', NO_PARAMS), '400: a ";" path parameter (limits.path.path_params)');
  assert.equal(normalizePath('/public/a', NO_PARAMS), '/public/a');
});

test('encoded bytes from %80 up must be well-formed UTF-8; the detail names the rule', () => {
  const cases: [string, string][] = [
    ['/public/%C0%AE%C0%AE/admin', 'an overlong UTF-8 encoding'],
    ['/public/%c0%af', 'an overlong UTF-8 encoding'],
    ['/public/%C1%BF', 'an overlong UTF-8 encoding'],
    ['/public/%E0%80%AE', 'an overlong UTF-8 encoding'],
    ['/public/%F0%80%80%AF', 'an overlong UTF-8 encoding'],
    ['/public/%ED%A0%80', 'a UTF-8 encoded surrogate'],
    ['/public/%ED%BF%BF', 'a UTF-8 encoded surrogate'],
    ['/public/%F4%90%80%80', 'UTF-8 above U+10FFFF'],
    ['/public/%F5%80%80%80', 'UTF-8 above U+10FFFF'],
    ['/public/%FF', 'a byte that is never valid in UTF-8'],
    ['/public/%80', 'a UTF-8 continuation byte without a lead byte'],
    ['/public/%C3', 'truncated UTF-8 sequence'],
    ['/public/%C3/x', 'truncated UTF-8 sequence'],
    ['/public/%C3a', 'truncated UTF-8 sequence'],
    ['/public/%E2%82', 'truncated UTF-8 sequence'],
    ['/public/%E2%82%41', 'truncated UTF-8 sequence'],
    ['/public/%C3%C3%A9', 'truncated UTF-8 sequence'],
  ];
  for (const pol of [DEFAULT_PATH_POLICY, DECODE, KEEP]) {
    for (const [p, why] of cases) assert.equal(outcome(p, pol), `400: ${why}`, p);
  }
  for (const p of [
    '/caf%C3%A9',
    '/%C2%80',
    '/%DF%BF',
    '/%E0%A0%80',
    '/%ED%9F%BF',
    '/%EE%80%80',
    '/%EF%BF%BF',
    '/%F0%90%80%80',
    '/%F0%9F%98%80',
    '/%F4%8F%BF%BF',
  ]) {
    assert.equal(normalizePath(p), p, p);
  }
  assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9');
});

test('other rejections say why', () => {
  assert.equal(outcome('a/b'), '400: the path must start with "/"');
  assert.equal(outcome('/a%zz'), '400: a "%" not followed by two hex digits');
  assert.equal(outcome('/a%0d%0a'), '400: an encoded control byte');
  assert.equal(outcome('/a b'), '400: a character not allowed in a path');
  assert.equal(outcome('/../etc'), '400: the path climbs above the root');
});

test('the hot path returns the very string it was given under every policy', () => {
  for (const pol of [DEFAULT_PATH_POLICY, DECODE, KEEP, NO_PARAMS]) {
    const p = '/api/users/42';
    assert.equal(normalizePath(p, pol), p);
  }
});
