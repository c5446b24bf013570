import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_LINES } from '../../src/http/head-lines.js';
import type { ResponseHead } from '../../src/pipeline/phase.js';
import { type ParsedHead, parseHead } from '../../src/upstream/http1/response-head.js';
import { downstreamHead } from '../../src/worker/downstream-head.js';

// downstreamHead() turns an upstream head into the bytes uWS writes after "HTTP/1.1 " (it adds the
// final CRLF, Date and the framing headers): what passes, what is dropped, what sluice adds.

function upstream(...fields: string[]): ParsedHead['lines'] {
  const buf = Buffer.from(['HTTP/1.1 200 OK', ...fields].join('\r\n') + '\r\n\r\n', 'latin1');
  const head: ParsedHead = { status: 0, lines: NO_LINES, contentLength: -1, chunked: false, keepAlive: true, keepAliveHintMs: -1, connectionNamed: null };
  assert.equal(parseHead(buf, 0, buf.length, head, 100), null);
  return head.lines;
}

function written(parts: Partial<ResponseHead> & Pick<ResponseHead, 'upstream'> & { id?: string }): string[] {
  const { id = 'req-1', ...head } = parts;
  const bytes = downstreamHead({ status: 200, connectionNamed: null, length: -1, set: null, remove: null, ...head }, id);
  return Buffer.from(bytes).toString('utf8').split('\r\n');
}

test('passing lines keep their bytes and order; hop-by-hop, framing and Date are dropped, even between runs', () => {
  const lines = upstream(
    'Content-Type: text/plain',
    'Date: x',
    'X-A: a:b:c',
    'Content-Length: 5',
    'Keep-Alive: timeout=5',
    'x-b:  spaced  ',
    'Connection: keep-alive',
  );
  assert.deepEqual(written({ upstream: lines }), [
    '200 OK',
    'Content-Type: text/plain',
    'X-A: a:b:c',
    'x-b:  spaced',
    'via: 1.1 sluice',
    'x-request-id: req-1',
  ]);
});

test('headers named by Connection and headers a stage sets are replaced; stage values go out as UTF-8', () => {
  const lines = upstream('X-Private: 1', 'RateLimit: upstream', 'X-Keep: yes');
  const out = written({ upstream: lines, status: 429, connectionNamed: ['x-private'], set: ['ratelimit', 'limit=10', 'x-note', 'caf\u00e9'] });
  assert.deepEqual(out, ['429 Too Many Requests', 'X-Keep: yes', 'ratelimit: limit=10', 'x-note: caf\u00e9', 'via: 1.1 sluice', 'x-request-id: req-1']);
  // Names with '_' and '^' (token bytes that are not letters) compare exactly, ignoring only letter case.
  const odd = upstream('X_Under: 1', 'X^Caret: 2', 'X-Under: 3');
  assert.deepEqual(written({ upstream: odd, connectionNamed: ['x^caret'], set: ['x_under', 'stage'] }), [
    '200 OK',
    'X-Under: 3',
    'x_under: stage',
    'via: 1.1 sluice',
    'x-request-id: req-1',
  ]);
});

test("the upstream's Via values come first, joined, then sluice's hop", () => {
  const lines = upstream('Via: 1.1 edge', 'X-A: 1', 'via: 1.0 cache');
  assert.deepEqual(written({ upstream: lines }), ['200 OK', 'X-A: 1', 'via: 1.1 edge, 1.0 cache, 1.1 sluice', 'x-request-id: req-1']);
});

test('a head with no lines, and one larger than the reused buffer', () => {
  assert.deepEqual(written({ upstream: upstream(), status: 204 }), ['204 No Content', 'via: 1.1 sluice', 'x-request-id: req-1']);
  const big = 'v'.repeat(40 * 1024);
  const out = written({ upstream: upstream(`X-Big: ${big}`, 'X-After: 1'), id: 'r'.repeat(128) });
  assert.deepEqual(out, ['200 OK', `X-Big: ${big}`, 'X-After: 1', 'via: 1.1 sluice', `x-request-id: ${'r'.repeat(128)}`]);
  // And the next, small head is not followed by the big one's bytes.
  assert.deepEqual(written({ upstream: upstream('X-A: 1') }), ['200 OK', 'X-A: 1', 'via: 1.1 sluice', 'x-request-id: req-1']);
});
