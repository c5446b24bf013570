import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestState } from '../../src/pipeline/request-ctx.js';
import { routeRuntime } from '../../src/pipeline/route-runtime.js';
import { keyOf, parseKeyPart } from '../../src/stages/rate-limit/limit-key.js';
import { hashKey } from '../../src/upstream/balancers/consistent-hash.js';
import { FakeFrontDoor } from '../helpers/fake-front-door.js';

const ctx = () => new FakeFrontDoor(routeRuntime('r', null, [])).ex;

test('stages keep typed state per request, apart from each other and from other requests', () => {
  const counts = new RequestState<{ n: number }>(0);
  const names = new RequestState<string>(1);
  const a = ctx();
  const b = ctx();
  assert.equal(counts.get(a), undefined);
  counts.set(a, { n: 1 });
  names.set(a, 'first');
  names.set(b, 'second');
  assert.deepEqual(counts.get(a), { n: 1 });
  assert.equal(names.get(a), 'first');
  assert.equal(counts.get(b), undefined);
  assert.equal(names.get(b), 'second');
});

test('the client address is what `ip` keys read, not the TCP peer (a trusted proxy may stand between)', () => {
  const c = ctx();
  c.peerAddress = '10.0.0.2';
  c.clientAddress = '203.0.113.9';
  assert.equal(keyOf(c, [parseKeyPart('ip')!]), '203.0.113.9');
  assert.equal(hashKey(c, { kind: 'ip' }), '203.0.113.9');
});
