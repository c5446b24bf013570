import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IpPlan } from '../../../src/stages/ip/compile.js';
import { ipAllowed } from '../../../src/stages/ip/stage.js';
import { configProblems, stagePlan } from '../../helpers/config.js';

const base = `
upstreams:
  up: { endpoints: [ { url: "http://127.0.0.1:9" } ] }
`;

test('a bad range is refused with file:line:col, at the top level and on a route', () => {
  const problems = configProblems(`${base}ip:
  deny: [10.0.0.0/8, 10.0.0.1/33]
routes:
  - name: a
    match: { prefix: / }
    upstream: up
    ip: { allow: [not-an-address] }
`);
  assert.ok(
    problems.some((p) => /^gw\.yaml:\d+:\d+ ip\.deny\[1\]: .*prefix length/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /^gw\.yaml:\d+:\d+ routes\[0\]\.ip\.allow\[0\]: .*not an IPv4 or IPv6/.test(p)),
    problems.join('\n'),
  );
});

test('an empty allow list is refused (it would deny everything)', () => {
  const problems = configProblems(`${base}routes:\n  - { name: a, match: { prefix: / }, upstream: up, ip: { allow: [] } }\n`);
  assert.ok(
    problems.some((p) => /routes\[0\]\.ip\.allow: is empty/.test(p)),
    problems.join('\n'),
  );
});

test('the top-level rule is compiled into every route, before the route’s own; deny wins over allow', () => {
  const yaml = `${base}ip: { deny: [198.51.100.0/24] }
trusted_proxies: ["::1"]
routes:
  - { name: open, match: { prefix: /open/ }, upstream: up }
  - { name: admin, match: { prefix: /admin/ }, upstream: up, ip: { allow: [10.0.0.0/8, "2001:db8::/32"], deny: [10.6.6.0/24] } }
`;
  const open = stagePlan<IpPlan>(yaml, 'ip', 'open')!;
  const admin = stagePlan<IpPlan>(yaml, 'ip', 'admin')!;
  assert.equal(open.rules.length, 1);
  assert.equal(admin.rules.length, 2);
  assert.ok(ipAllowed(open.rules, '203.0.113.1'));
  assert.ok(!ipAllowed(open.rules, '198.51.100.7'));
  assert.ok(ipAllowed(admin.rules, '10.1.2.3'));
  assert.ok(ipAllowed(admin.rules, '::ffff:10.1.2.3'), 'mapped IPv4 is IPv4');
  assert.ok(ipAllowed(admin.rules, '2001:db8::9'));
  assert.ok(!ipAllowed(admin.rules, '10.6.6.6'), 'deny wins over allow');
  assert.ok(!ipAllowed(admin.rules, '203.0.113.1'), 'not on the allow list');
  assert.equal(stagePlan<IpPlan>(`${base}routes:\n  - { name: a, match: { prefix: / }, upstream: up }\n`, 'ip', 'a'), undefined, 'no policy: no stage');
});
