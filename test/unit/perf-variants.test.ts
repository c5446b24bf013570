import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayConfig, scenarios } from '../../perf/scenarios.js';
import { merged, overlayOf, variants } from '../../perf/variants.js';
import { loadPlanText } from '../../src/primary/load-plan.js';

/** Every value the overlay sets is in the loaded config (which has defaults besides). */
function assertHolds(config: unknown, overlay: unknown, where: string): void {
  if (typeof overlay !== 'object' || overlay === null || Array.isArray(overlay)) return assert.deepEqual(config, overlay, where);
  for (const [k, v] of Object.entries(overlay)) assertHolds((config as Record<string, unknown>)[k], v, `${where}.${k}`);
}

test('every perf variant is a config sluice accepts, with its overlay applied', () => {
  assert.ok(variants.length > 0);
  for (const v of variants) {
    for (const name of v.scenarios)
      assert.ok(
        scenarios.some((s) => s.name === name),
        `${v.name}: no scenario ${name}`,
      );
    const overlay = overlayOf(v, 7001);
    const { config } = loadPlanText(gatewayConfig(7001, 8, overlay), `${v.name}.yaml`);
    assertHolds(config, overlay, v.name);
  }
});

test('the access log variant turns the access log off and leaves the rest', () => {
  const { config } = loadPlanText(gatewayConfig(7001, 8, { log: { access: false } }), 'log-off.yaml');
  assert.equal(config.log.access, false);
  assert.equal(config.log.level, 'info');
  assert.equal(loadPlanText(gatewayConfig(7001, 8), 'base.yaml').config.log.access, true);
});

test('an overlay merges objects key by key and replaces everything else', () => {
  assert.deepEqual(merged({ log: { level: 'info', access: true }, workers: 2 }, { log: { access: false }, workers: [1] }), {
    log: { level: 'info', access: false },
    workers: [1],
  });
  assert.throws(() => gatewayConfig(7001, 8, { routes: [] }), /not upstreams or routes/);
});
