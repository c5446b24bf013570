import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startDns } from '../helpers/dns-server.js';
import { startEtcd } from '../helpers/etcd.js';
import { eventually, load, startEndpoint } from '../helpers/fleet.js';
import { startGateway } from '../helpers/gateway.js';
import { skipWithout } from '../helpers/system-services.js';

const skip = skipWithout('etcd');

// Service discovery through the real data plane: a real DNS server (UDP, answers we change) and a
// real etcd. Endpoint changes apply without a reload and without failing a request.
const started: { stop(): Promise<unknown> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

test('dns: endpoints follow the A records; a failed lookup keeps the last ones', async () => {
  const one = await startEndpoint('one', '127.0.0.1');
  const two = await startEndpoint('two', '127.0.0.2', one.port);
  started.push(one, two);
  const dns = await startDns();
  started.push({ stop: () => dns.close() });
  dns.records.set('api.test', ['127.0.0.1']);
  const gw = await startGateway(`
upstreams:
  api:
    discovery: { dns: { name: api.test, port: ${one.port}, family: ipv4, interval_ms: 100, servers: ["127.0.0.1:${dns.port}"] } }
routes: [ { name: api, match: { prefix: / }, upstream: api } ]
log: { access: false }
`);
  started.push(gw);
  let r = await load(gw.url('/'), 50, 4);
  assert.deepEqual([...r.byEndpoint], [['one', 50]]);

  const traffic = { stop: false };
  const during = load(gw.url('/'), 1_000_000, 4, undefined, traffic);
  dns.records.set('api.test', ['127.0.0.1', '127.0.0.2']);
  await gw.waitForLog((l) => l.msg === 'discovered endpoints changed' && l.endpoints.length === 2);
  await eventually(() => two.hits > 20, 'the added address gets traffic');
  dns.records.set('api.test', ['127.0.0.2']);
  await gw.waitForLog((l) => l.msg === 'discovered endpoints changed' && l.endpoints.length === 1 && l.endpoints[0] === two.origin);
  await new Promise((res) => setTimeout(res, 300));
  const oneHits = one.hits;
  await new Promise((res) => setTimeout(res, 300));
  traffic.stop = true;
  const d = await during;
  assert.equal(d.errors, 0);
  assert.deepEqual([...d.statuses.keys()], [200], 'a request failed while endpoints changed');
  assert.equal(one.hits, oneHits, 'the removed address still got requests');

  dns.records.delete('api.test');
  const warn = await gw.waitForLog((l) => l.code === 'SLUICE_ERR_DISCOVERY');
  assert.match(warn.msg, /DNS lookup of api.test failed.*keeping the last endpoints/);
  r = await load(gw.url('/'), 20, 2);
  assert.deepEqual([...r.byEndpoint], [['two', 20]]);
});

test('etcd: endpoints added and removed under load with zero failed requests; removed pools are closed', { skip }, async () => {
  const a = await startEndpoint('a');
  const b = await startEndpoint('b');
  started.push(a, b);
  const etcd = await startEtcd();
  started.push(etcd);
  await etcd.put('/services/users/a', JSON.stringify({ url: a.origin }));
  await etcd.put('/services/other/x', JSON.stringify({ url: 'http://127.0.0.1:1' }));
  const gw = await startGateway(`
upstreams:
  users:
    discovery: { etcd: { endpoints: ["${etcd.url}"], prefix: /services/users/ } }
routes: [ { name: users, match: { prefix: / }, upstream: users } ]
log: { access: false }
`);
  started.push(gw);
  const first = await load(gw.url('/'), 40, 4);
  assert.deepEqual([...first.byEndpoint], [['a', 40]], 'keys outside the prefix were used, or a was not');

  const traffic = { stop: false };
  const during = load(gw.url('/'), 1_000_000, 4, undefined, traffic);
  await etcd.put('/services/users/b', JSON.stringify({ url: b.origin, weight: 1 }));
  await gw.waitForLog((l) => l.msg === 'discovered endpoints changed' && l.endpoints.length === 2);
  await eventually(() => b.hits > 20, 'the added endpoint gets traffic');
  await etcd.del('/services/users/a');
  await gw.waitForLog((l) => l.msg === 'discovered endpoints changed' && l.endpoints.length === 1 && l.endpoints[0] === b.origin);
  // Removed from etcd first, stopped after: no request may fail on the way.
  await eventually(() => a.connections === 0, "the removed endpoint's pooled connections are closed (sooner than the 4 s keep-alive would)", 1500);
  const aHits = a.hits;
  await new Promise((res) => setTimeout(res, 300));
  traffic.stop = true;
  const d = await during;
  assert.equal(d.errors, 0);
  assert.deepEqual([...d.statuses.keys()], [200], 'a request failed while endpoints changed');
  assert.equal(a.hits, aHits);

  await etcd.put('/services/users/broken', 'not json');
  const warn = await gw.waitForLog((l) => l.code === 'SLUICE_ERR_DISCOVERY');
  assert.match(warn.msg, /etcd key \/services\/users\/broken: value is not JSON; ignored/);
  const admin = (await (await fetch(`http://127.0.0.1:${gw.adminPort}/upstreams`)).json()) as any;
  assert.deepEqual(
    admin.upstreams[0].endpoints.map((e: any) => e.url),
    [b.origin],
  );
});
