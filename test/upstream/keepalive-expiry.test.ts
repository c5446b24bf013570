import assert from 'node:assert/strict';
import { test } from 'node:test';
import { legHarness } from '../helpers/leg-harness.js';
import { scripted } from '../helpers/scripted-upstream.js';

// Issue 21, class 8, in-process: an idle connection past its keep-alive time is never reused, even
// when a busy event loop has not yet run the timer that would close it. Real pool, real loopback
// upstream that keeps every connection open.

const answer = (path: string) => `HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`;

/** Hold the thread: no timer can fire meanwhile. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

test('an idle connection past keepalive_ms whose timer has not fired yet is closed, not reused', async (t) => {
  const up = await scripted((r, s) => s.write(answer(r.path)));
  t.after(() => up.close());
  const h = legHarness(`
upstreams:
  app:
    endpoints: [ { url: "${up.origin}" } ]
    pool: { keepalive_ms: 100 }
routes:
  - { name: r, match: { prefix: / }, upstream: app }
`);
  t.after(() => h.close());
  for (const path of ['/a', '/b']) {
    const { down } = h.start({ path });
    await down.finished();
    assert.equal(down.text(), path);
  }
  busy(150);
  const { down } = h.start({ path: '/c' });
  await down.finished();
  assert.equal(down.text(), '/c');
  assert.deepEqual(
    up.requests.map((r) => [r.path, r.conn, r.nth]),
    [
      ['/a', 1, 1],
      ['/b', 1, 2],
      ['/c', 2, 1],
    ],
    'reused within keepalive_ms, a new connection after it',
  );
});
