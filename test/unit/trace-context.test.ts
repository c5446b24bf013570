import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSpanId, newTraceId } from '../../src/observe/trace-ids.js';
import { boundTraceState, readTraceContext, validTraceparent } from '../../src/worker/trace-context.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';

test('traceparent: version 00 exactly, later versions by the forward-compatible rules', () => {
  assert.ok(validTraceparent(`00-${T}-${P}-01`));
  assert.ok(validTraceparent(`00-${T}-${P}-00`));
  assert.ok(validTraceparent(`01-${T}-${P}-03`));
  assert.ok(validTraceparent(`fe-${T}-${P}-01-more`));
  assert.ok(!validTraceparent(`fe-${T}-${P}-01more`), 'a later version must separate what follows with "-"');
  assert.ok(!validTraceparent(`ff-${T}-${P}-01`));
  assert.ok(!validTraceparent(`00-${T}-${P}-01-`));
  assert.ok(!validTraceparent(`00-${T}-${P}-1`));
  assert.ok(!validTraceparent(`00-${T.toUpperCase()}-${P}-01`));
  assert.ok(!validTraceparent(`00-${T}-${P}-0A`));
  assert.ok(!validTraceparent(`0g-${T}-${P}-01`));
  assert.ok(!validTraceparent(`00-${'0'.repeat(32)}-${P}-01`));
  assert.ok(!validTraceparent(`00-${T}-${'0'.repeat(16)}-01`));
  assert.ok(!validTraceparent(`00_${T}-${P}-01`));
  assert.ok(!validTraceparent(''));
});

test('a valid traceparent is continued with a new span id; the sampled flag is the low bit', () => {
  const c = readTraceContext(['traceparent', `00-${T}-${P}-01`, 'tracestate', 'a=1'], 0);
  assert.equal(c.traceId, T);
  assert.equal(c.parentSpanId, P);
  assert.match(c.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(c.spanId, P);
  assert.equal(c.sampled, true);
  assert.equal(c.traceState, 'a=1');
  assert.equal(readTraceContext(['traceparent', `00-${T}-${P}-02`], 1).sampled, false);
});

test('two traceparent headers are invalid; two tracestate headers are joined', () => {
  const two = readTraceContext(['traceparent', `00-${T}-${P}-01`, 'traceparent', `00-${T}-${P}-01`], 0);
  assert.notEqual(two.traceId, T);
  assert.equal(two.parentSpanId, null);
  assert.equal(readTraceContext(['traceparent', `00-${T}-${P}-01`, 'tracestate', 'a=1', 'tracestate', 'b=2'], 0).traceState, 'a=1,b=2');
});

test('a started trace: new ids, no parent, no tracestate, sampled by the rate', () => {
  const c = readTraceContext(['tracestate', 'a=1'], 0);
  assert.match(c.traceId, /^[0-9a-f]{32}$/);
  assert.equal(c.parentSpanId, null);
  assert.equal(c.traceState, '');
  assert.equal(c.sampled, false);
  assert.equal(readTraceContext([], 1).sampled, true);
});

test('tracestate: as received within bounds, else whole members up to 32 and 512 characters', () => {
  assert.equal(boundTraceState('a=1, b=2'), 'a=1, b=2');
  const many = Array.from({ length: 40 }, (_, i) => `k${i}=v`);
  assert.equal(boundTraceState(many.join(',')), many.slice(0, 32).join(','));
  const long = Array.from({ length: 10 }, (_, i) => `k${i}=${'x'.repeat(100)}`);
  const cut = boundTraceState(long.join(','));
  assert.equal(cut, long.slice(0, 4).join(','));
  assert.equal(boundTraceState(`big=${'x'.repeat(600)}`), '');
});

test('ids are lower-case hex of the right length and do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const s = newSpanId();
    assert.match(s, /^[0-9a-f]{16}$/);
    seen.add(s);
  }
  assert.equal(seen.size, 10_000);
  assert.match(newTraceId(), /^[0-9a-f]{32}$/);
  assert.notEqual(newTraceId(), newTraceId());
});
