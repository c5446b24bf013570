import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, compileCidrs, lastAddressText, parseAddress } from '../../src/http/cidr.js';

const set = (...list: string[]) => {
  const s = compileCidrs(list);
  assert.ok('v4' in s, JSON.stringify(s));
  return s;
};

test('IPv4 ranges match by binary search over merged ranges', () => {
  const s = set('10.0.0.0/8', '192.168.1.0/24', '10.1.0.0/16', '203.0.113.7');
  assert.deepEqual(s.v4.length, 6, 'the /16 inside the /8 is merged away');
  for (const a of ['10.0.0.0', '10.255.255.255', '192.168.1.77', '203.0.113.7']) assert.ok(cidrContains(s, a), a);
  for (const a of ['9.255.255.255', '11.0.0.0', '192.168.2.1', '203.0.113.8', '']) assert.ok(!cidrContains(s, a), a);
  assert.ok(cidrContains(set('0.0.0.0/0'), '255.255.255.255'));
});

test('IPv6 prefixes, and IPv4-mapped IPv6 on either side is IPv4', () => {
  const s = set('2001:db8::/32', '::1/128', 'fe80::/10');
  for (const a of ['2001:db8::1', '2001:DB8:ffff::', '::1', '0:0:0:0:0:0:0:1', 'fe80::1', '[2001:db8::5]']) assert.ok(cidrContains(s, a), a);
  for (const a of ['2001:db9::1', '::2', 'fec0::1', '::ffff:127.0.0.1']) assert.ok(!cidrContains(s, a), a);
  assert.ok(cidrContains(set('127.0.0.0/8'), '::ffff:127.0.0.1'));
  assert.ok(cidrContains(set('::ffff:10.0.0.0/104'), '10.2.3.4'));
  assert.ok(!cidrContains(set('::ffff:10.0.0.0/104'), '11.2.3.4'));
});

test('only plain addresses parse: no leading zeros, ports, zone ids or garbage', () => {
  for (const a of [
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.256',
    '1.2.3.4:80',
    'fe80::1%eth0',
    ':::',
    '1::2::3',
    'unknown',
    ' 1.2.3.4',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
  ]) {
    assert.equal(parseAddress(a), 0, a);
  }
  assert.equal(parseAddress('::ffff:1.2.3.4'), 4);
  assert.equal(lastAddressText(4), '1.2.3.4');
  assert.equal(parseAddress('0000:0000:0000:0000:0000:0000:0000:0001'), 6);
  assert.equal(lastAddressText(6), '::1');
  assert.equal(parseAddress('2001:DB8:0:0:1:0:0:1'), 6);
  assert.equal(lastAddressText(6), '2001:db8::1:0:0:1');
});

test('bad ranges are refused with the index and the reason', () => {
  assert.deepEqual(compileCidrs(['10.0.0.0/8', '10.0.0.1/8']), { index: 1, message: '"10.0.0.1/8" has host bits set beyond /8' });
  assert.equal((compileCidrs(['10.0.0.0/33']) as { index: number }).index, 0);
  assert.equal((compileCidrs(['example.com']) as { index: number }).index, 0);
  assert.equal((compileCidrs(['2001:db8::1/32']) as { index: number }).index, 0);
});
