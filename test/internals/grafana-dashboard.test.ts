import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAMILIES } from '../../src/observe/metric-families.js';
import { panelsOf, queriesOf, readDashboard } from '../helpers/grafana.js';

// docs/grafana/sluice-dashboard.json is imported by hand into someone's Grafana: it must parse, ask
// for its Prometheus data source on import, and name only metrics sluice serves. (The Prometheus
// integration test also runs every expression through a real Prometheus.)

/** How an imported dashboard names the data source picked on import. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's input syntax, not a JS template
const DATASOURCE_INPUT = '${DS_PROMETHEUS}';

/** Every series name GET /metrics can serve: the families, and a histogram's _bucket/_sum/_count. */
function servedNames(): Set<string> {
  const names = new Set<string>();
  for (const f of Object.values(FAMILIES)) {
    names.add(f.name);
    if (f.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(f.name + s);
  }
  return names;
}

test('the dashboard parses and asks for a Prometheus data source on import', () => {
  const d = readDashboard();
  assert.equal(typeof d.title, 'string');
  assert.deepEqual(
    d.__inputs.map((i: any) => [i.name, i.type, i.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  const panels = panelsOf(d);
  assert.ok(panels.length >= 10);
  const ids = [...d.panels.filter((p: any) => p.type === 'row'), ...panels].map((p: any) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of panels) {
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: DATASOURCE_INPUT }, p.title);
    assert.ok(p.targets.length > 0, `${p.title} has a query`);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24 columns`);
  }
});

test('every expression names only metric families sluice serves', () => {
  const served = servedNames();
  const unknown: string[] = [];
  for (const q of queriesOf(readDashboard())) {
    for (const [name] of q.expr.matchAll(/\bsluice_[a-z0-9_]+/g)) if (!served.has(name)) unknown.push(`${q.panel}: ${name}`);
  }
  assert.deepEqual(unknown, []);
});

test('the dashboard shows what issue 19 asks of it', () => {
  const all = queriesOf(readDashboard())
    .map((q) => q.expr)
    .join('\n');
  for (const name of [
    'sluice_requests_total',
    'sluice_request_duration_seconds_bucket',
    'sluice_upstream_tries_total',
    'sluice_upstream_retries_total',
    'sluice_endpoint_healthy',
    'sluice_upstream_circuit_state',
    'sluice_rate_limit_decisions_total',
    'sluice_auth_failures_total',
    'sluice_worker_event_loop_delay_p99_seconds',
    'sluice_config_reloads_total',
  ])
    assert.ok(all.includes(name), `no panel shows ${name}`);
  assert.match(all, /histogram_quantile\(0\.99, sum by \(le, route\)/, 'p99 per route');
});
