import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { bearerToken } from '../../../src/stages/auth/bearer.js';
import { maxAgeMs, parseJwks } from '../../../src/stages/auth/jwks-document.js';

test('Cache-Control: max-age and s-maxage in ms, no-store/no-cache as 0, nothing usable as null', () => {
  assert.equal(maxAgeMs('public, max-age=600'), 600_000);
  assert.equal(maxAgeMs('max-age="60"'), 60_000);
  assert.equal(maxAgeMs('s-maxage=30, must-revalidate'), 30_000);
  assert.equal(maxAgeMs('no-store'), 0);
  assert.equal(maxAgeMs('private, no-cache'), 0);
  assert.equal(maxAgeMs('public'), null);
  assert.equal(maxAgeMs(undefined), null);
  assert.equal(maxAgeMs('x-max-age=5'), null, 'a longer directive name is not max-age');
});

test('a JWKS keeps public RSA, EC and OKP keys as PEM; drops oct, enc and junk; never keeps private parts', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const { keys, skipped } = parseJwks(
    JSON.stringify({
      keys: [
        { ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec', alg: 'ES256' }, // private members included by mistake
        { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' },
        { kty: 'oct', kid: 'sym', k: 'c2VjcmV0' },
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'enc', use: 'enc' },
        { kty: 'RSA', kid: 'broken', n: 'AA', e: 'AQAB' },
        'junk',
      ],
    }),
  );
  assert.deepEqual(
    keys.map((k) => [k.kid, k.alg]),
    [
      ['ec', 'ES256'],
      ['ed', ''],
    ],
  );
  assert.equal(skipped, 4);
  for (const k of keys) assert.equal(createPublicKey(k.pem).type, 'public');
  assert.ok(!keys[0].pem.includes('PRIVATE'));
  assert.throws(() => parseJwks('{"nokeys": []}'), /not a JWKS/);
  assert.throws(() => parseJwks('<html>'));
});

test('Authorization: Bearer, case-insensitive scheme, b64token syntax only', () => {
  assert.equal(bearerToken('Bearer abc.def-_~+/='), 'abc.def-_~+/=');
  assert.equal(bearerToken('bEaReR   a.b.c  '), 'a.b.c');
  for (const bad of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearerx abc', 'Bearer a b', 'Bearer a"b', 'Bearer a,b']) {
    assert.equal(bearerToken(bad), null, String(bad));
  }
});
