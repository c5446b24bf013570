import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { parseMetrics, total } from '../helpers/metrics-text.js';
import { type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';

// Issue 21, class 8: an upstream that closes idle connections right at its keep-alive timeout. A GET
// that meets such a connection as it goes out is sent again on a new one (not a retry: logged and
// counted as a resend), and a connection is reused only well within the upstream's advertised
// `Keep-Alive: timeout=N` (N − 1 s, or N/2 when shorter).

const IDLE_MS = 250;

/** Each connection is closed (FIN) exactly IDLE_MS after the last answer on it, and says nothing of it. */
let closesAtIdle: ScriptedUpstream;
/** Advertises Keep-Alive: timeout=1 and closes idle connections after exactly 1 s. */
let advertises: ScriptedUpstream;
/** Answers the first request of a connection; a later one finds it closed (a deterministic stale race). */
let closesOnReuse: ScriptedUpstream;
let gw: TestGateway;

function idleCloser(ms: number, fields: string) {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  return (r: { path: string }, s: Socket) => {
    clearTimeout(timers.get(s));
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${r.path.length}\r\n${fields}\r\n${r.path}`);
    timers.set(
      s,
      setTimeout(() => s.end(), ms),
    );
  };
}

before(async () => {
  closesAtIdle = await scripted(idleCloser(IDLE_MS, ''));
  advertises = await scripted(idleCloser(1000, 'Keep-Alive: timeout=1\r\n'));
  closesOnReuse = await scripted((r, s) => {
    if (r.nth > 1) s.destroy();
    else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${r.path.length}\r\n\r\n${r.path}`);
  });
  const upstream = (name: string, origin: string, pool = '') =>
    `  ${name}:\n    endpoints: [ { url: "${origin}" } ]\n    health: { passive: { consecutive_failures: 0 } }\n${pool}`;
  gw = await startGateway(
    `
upstreams:
${upstream('at-idle', closesAtIdle.origin, `    pool: { keepalive_ms: ${IDLE_MS} }\n`)}
${upstream('advertises', advertises.origin)}
${upstream('on-reuse', closesOnReuse.origin)}
routes:
  - { name: at-idle, match: { prefix: /at-idle }, upstream: at-idle, retries: { attempts: 1 } }
  - { name: advertises, match: { prefix: /advertises }, upstream: advertises, retries: { attempts: 1 } }
  - { name: on-reuse, match: { prefix: /on-reuse }, upstream: on-reuse, retries: { attempts: 1 } }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  for (const u of [closesAtIdle, advertises, closesOnReuse]) await u.close();
});

async function resendsTo(origin: string): Promise<number> {
  const r = await request(`http://127.0.0.1:${gw.adminPort}/metrics`);
  return total(parseMetrics(r.body), 'sluice_upstream_resends_total', { endpoint: origin });
}

test('GETs timed to meet the upstream closing idle connections at the same moment as sluice: zero 502s', async () => {
  // Both sides give up on an idle connection after IDLE_MS: each request goes out within a few ms of
  // that moment, before and after it. attempts: 1, so only the resend can save a request.
  const statuses = new Map<number, number>();
  for (let i = 0; i < 30; i++) {
    const r = await request(gw.url(`/at-idle/${i}`), { timeoutMs: 5000 });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.equal(r.status, 200, `request ${i}: ${r.body}`);
    assert.equal(r.body, `/at-idle/${i}`);
    await sleep(IDLE_MS - 4 + (i % 9));
  }
  assert.deepEqual([...statuses], [[200, 30]]);
});

test('a GET on a connection the upstream closed as it went out is resent once on a new connection: logged and counted, not a retry', async () => {
  const before = await resendsTo(closesOnReuse.origin);
  assert.equal((await request(gw.url('/on-reuse/warm'))).status, 200);
  const r = await request(gw.url('/on-reuse/again'), { timeoutMs: 5000 });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, '/on-reuse/again');
  const id = r.headers['x-request-id'];
  const line = await gw.waitForLog((l) => l.request_id === id && l.why === 'stale');
  assert.equal(line.level, 'info');
  assert.equal(line.endpoint, closesOnReuse.origin);
  assert.equal(line.attempt, 1);
  const access = await gw.waitForLog((l) => l.request_id === id && l.status === 200);
  assert.equal(access.attempts, undefined, 'one try: the resend is not a retry');
  assert.equal(await resendsTo(closesOnReuse.origin), before + 1);
});

test('Keep-Alive: timeout=1 → a connection is reused within 500 ms, and not after', async () => {
  const from = advertises.requests.length;
  for (const [path, pause] of [
    ['/advertises/a', 0],
    ['/advertises/b', 200],
    ['/advertises/c', 700],
    ['/advertises/d', 950],
  ] as const) {
    await sleep(pause);
    const r = await request(gw.url(path), { timeoutMs: 5000 });
    assert.equal(r.status, 200, r.body);
  }
  const seen = advertises.requests.slice(from);
  assert.deepEqual(
    seen.map((s) => s.path),
    ['/advertises/a', '/advertises/b', '/advertises/c', '/advertises/d'],
    'no request went out twice: none met a closing connection',
  );
  assert.equal(seen[1].conn, seen[0].conn, 'reused after 200 ms idle');
  assert.equal(seen[2].nth, 1, 'a new connection after 700 ms idle');
  assert.equal(seen[3].nth, 1, 'a new connection after 950 ms idle');
});
