import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startDns } from '../helpers/dns-server.js';
import { startEtcd } from '../helpers/etcd.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { parseMetrics, type Sample, total } from '../helpers/metrics-text.js';
import { skipWithout } from '../helpers/system-services.js';
import { startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

const skip = skipWithout('etcd');

// A broken discovery source shows on GET /metrics (up 0, errors counting, last success standing
// still) while the endpoints it found last stay in force.
const started: { stop(): Promise<unknown> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function samples(gw: TestGateway): Promise<Sample[]> {
  const r = await request(`http://127.0.0.1:${gw.adminPort}/metrics`);
  assert.equal(r.status, 200, r.body);
  return parseMetrics(r.body);
}

test('dns: a failing lookup turns sluice_discovery_up to 0 and counts errors; endpoints stay', async () => {
  const origin = await startUpstream();
  started.push({ stop: () => origin.close() });
  const dns = await startDns();
  started.push({ stop: () => dns.close() });
  dns.records.set('api.test', ['127.0.0.1']);
  const gw = await startGateway(`
upstreams:
  api:
    discovery: { dns: { name: api.test, port: ${origin.port}, family: ipv4, interval_ms: 100, servers: ["127.0.0.1:${dns.port}"] } }
  fixed: { endpoints: [ { url: "${origin.origin}" } ] }
routes: [ { name: api, match: { prefix: / }, upstream: api } ]
log: { access: false }
`);
  started.push(gw);
  const where = { upstream: 'api', discovery: 'dns' };
  let s = await samples(gw);
  assert.equal(total(s, 'sluice_discovery_up', where), 1);
  assert.equal(total(s, 'sluice_discovery_errors_total', where), 0);
  const firstSuccess = total(s, 'sluice_discovery_last_success_timestamp_seconds', where);
  assert.ok(Math.abs(firstSuccess - Date.now() / 1000) < 60, `last success ${firstSuccess} is about now`);
  assert.equal(total(s, 'sluice_discovery_endpoints', where), 1);
  assert.ok(
    !s.some((x) => x.name.startsWith('sluice_discovery_') && x.name !== 'sluice_discovery_endpoints' && x.labels.upstream === 'fixed'),
    'a static upstream has no source to report on',
  );

  dns.records.delete('api.test');
  await waitFor(
    async () => {
      s = await samples(gw);
      return total(s, 'sluice_discovery_errors_total', where) >= 2;
    },
    'failed lookups counted',
    10_000,
  );
  assert.equal(total(s, 'sluice_discovery_up', where), 0);
  assert.equal(total(s, 'sluice_discovery_endpoints', where), 1, 'the last endpoints stay');
  const stale = total(s, 'sluice_discovery_last_success_timestamp_seconds', where);
  assert.ok(stale >= firstSuccess && stale <= Date.now() / 1000, 'the last success stands still');
  assert.equal((await request(gw.url('/'))).status, 200, 'traffic still flows to the last endpoints');

  dns.records.set('api.test', ['127.0.0.1']);
  await waitFor(async () => total(await samples(gw), 'sluice_discovery_up', where) === 1, 'the source answers again', 10_000);
});

test('etcd: a stopped etcd turns sluice_discovery_up to 0 and counts errors', { skip }, async () => {
  const origin = await startUpstream();
  started.push({ stop: () => origin.close() });
  const etcd = await startEtcd();
  await etcd.put('/services/users/a', JSON.stringify({ url: origin.origin }));
  const gw = await startGateway(`
upstreams:
  users:
    discovery: { etcd: { endpoints: ["${etcd.url}"], prefix: /services/users/ } }
routes: [ { name: users, match: { prefix: / }, upstream: users } ]
log: { access: false }
`);
  started.push(gw);
  const where = { upstream: 'users', discovery: 'etcd' };
  let s = await samples(gw);
  assert.equal(total(s, 'sluice_discovery_up', where), 1);
  assert.equal(total(s, 'sluice_discovery_errors_total', where), 0);
  assert.equal(total(s, 'sluice_discovery_endpoints', where), 1);

  await etcd.stop();
  await waitFor(
    async () => {
      s = await samples(gw);
      return total(s, 'sluice_discovery_errors_total', where) >= 1;
    },
    'the broken watch counted',
    10_000,
  );
  assert.equal(total(s, 'sluice_discovery_up', where), 0);
  assert.equal(total(s, 'sluice_discovery_endpoints', where), 1, 'the last endpoints stay');
});
