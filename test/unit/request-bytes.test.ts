import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestHead } from '../../src/upstream/http1/request-bytes.js';
import type { UpstreamTry } from '../../src/upstream/http1/upstream-try.js';

// requestHead() writes the bytes sent upstream for a try: exactly the head, UTF-8, and never
// disturbed by the heads written after it (the socket may not have sent it yet).

function attempt(path: string, headers: string[]): UpstreamTry {
  return { method: 'GET', path, headers } as unknown as UpstreamTry;
}

test('request line, headers in order, the empty line; chunked adds its framing line', () => {
  const t = attempt('/a?b=1', ['host', 'example.com', 'x-forwarded-for', '10.0.0.1']);
  assert.equal(requestHead(t, false).toString('latin1'), 'GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 10.0.0.1\r\n\r\n');
  assert.equal(
    requestHead(t, true).toString('latin1'),
    'GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 10.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n',
  );
});

test('text beyond ASCII goes out as UTF-8: U+010A is C4 8A, never a line feed', () => {
  const bytes = requestHead(attempt('/', ['x-name', 'caf\u00e9 \u010a \u{1f600}']), false);
  assert.equal(bytes.toString('utf8'), 'GET / HTTP/1.1\r\nx-name: caf\u00e9 \u010a \u{1f600}\r\n\r\n');
  assert.equal(bytes.filter((c) => c === 0x0a).length, 3, 'only the three line ends are LF');
});

test('a head stays intact while later heads are written, across a new slab', () => {
  const first = requestHead(attempt('/first', ['x-id', '0']), false);
  const copy = Buffer.from(first);
  const big = 'v'.repeat(20 * 1024);
  for (let i = 0; i < 10; i++) requestHead(attempt(`/next/${i}`, ['x-big', big]), false);
  assert.deepEqual(Buffer.from(first), copy);
});
