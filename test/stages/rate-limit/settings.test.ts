import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stageTableBytes } from '../../../src/stages/registry.js';
import { compileConfig, configProblems } from '../../helpers/config.js';

test("rate_limits: settings compile into the stage's settings; its env variable overrides them; its tables are sized from them", () => {
  const defaults = compileConfig('{}').plan.stageSettings.rate_limit;
  assert.deepEqual(defaults, { tableSlots: 65536, redis: null });
  const tuned = compileConfig('rate_limits: { table_slots: 1000, redis: { url: "redis://127.0.0.1:6379" } }\n', { SLUICE_RATE_LIMIT_SLOTS: '100' }).plan;
  assert.deepEqual(tuned.stageSettings.rate_limit, { tableSlots: 128, redis: { url: 'redis://127.0.0.1:6379', timeoutMs: 50, keyPrefix: 'sluice:rl:' } });
  assert.deepEqual(stageTableBytes(tuned.stageSettings).rate_limit, { rate: 128 * 16, inFlight: 128 * 16 });
  assert.deepEqual(configProblems('{}', { SLUICE_RATE_LIMIT_SLOTS: '8' }), [
    'environment:0:0 SLUICE_RATE_LIMIT_SLOTS: must be an integer from 16 to 67108864, got "8"',
  ]);
});
