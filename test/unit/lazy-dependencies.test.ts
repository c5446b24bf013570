import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

const loaded = (): string[] => Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('/node_modules/ioredis/'));

// ioredis subclasses String, which slows every String method call in the thread (perf/README.md):
// the data plane must not load it unless a cluster-scope limit is configured.
test('the worker data plane loads without ioredis; a cluster-scope limit loads it', async () => {
  await import('../../src/worker/runtime.js');
  await import('../../src/stages/rate-limit/stage.js');
  assert.deepEqual(loaded(), []);
  const { RedisGcra } = await import('../../src/stages/rate-limit/redis-gcra.js');
  assert.deepEqual(loaded(), []);
  const log = { warn() {}, error() {} } as never;
  const gcra = new RedisGcra('redis://127.0.0.1:1', 50, 'sluice-test:', log);
  assert.notDeepEqual(loaded(), []);
  await gcra.close();
});
