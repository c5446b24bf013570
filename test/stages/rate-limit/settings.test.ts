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

test('keys jwt:CLAIM and api_key need the matching auth: on the route (else every caller shares one budget)', () => {
  const route = (auth: string, key: string) => `upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:1" } ] }
routes:
  - name: r
    match: { prefix: / }
    upstream: up
${auth}    rate_limit: [ { name: l, key: ${key}, rate: 1, per: 1s } ]
`;
  const jwt = `    auth: { jwt: { algorithms: [HS256], keys: [ { secret: "${'s'.repeat(32)}" } ] } }\n`;
  const apiKey = `    auth: { api_key: { keys: [ { id: a, hash: "sha256:${'0'.repeat(64)}" } ] } }\n`;
  const cases: [string, string, RegExp][] = [
    ['', '"jwt:sub"', /gw\.yaml:7:\d+ routes\[0\]\.rate_limit\[0\]\.key: jwt:sub needs auth: \{ jwt: \.\.\. \} on this route/],
    ['', 'api_key', /routes\[0\]\.rate_limit\[0\]\.key: api_key needs auth: \{ api_key: \.\.\. \}/],
    [apiKey, '[ip, "jwt:tenant"]', /rate_limit\[0\]\.key: jwt:tenant needs auth: \{ jwt/],
    [jwt, 'api_key', /rate_limit\[0\]\.key: api_key needs auth: \{ api_key/],
  ];
  for (const [auth, key, expected] of cases) {
    const problems = configProblems(route(auth, key));
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${key}\n→ ${problems.join('\n')}`,
    );
  }
  compileConfig(route(jwt, '[ip, "jwt:sub"]'));
  compileConfig(route(apiKey, 'api_key'));
});
