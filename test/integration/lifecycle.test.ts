import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startGateway, startGatewayFile } from '../helpers/gateway.js';
import { json, request } from '../helpers/http.js';
import { startUpstream } from '../helpers/upstream.js';

const config = (origin: string, body: string) => `
upstreams:
  u: { endpoints: [ { url: "${origin}" } ] }
routes:
  - { name: api, match: { prefix: /api/ }, upstream: u }
  - { name: version, match: { path: /version }, respond: { body: "${body}" } }
`;

/** Steady concurrent load until `stop` is set; counts answers other than 200. */
async function load(url: string, until: () => boolean, concurrency = 8): Promise<{ ok: number; failed: string[] }> {
  let ok = 0;
  const failed: string[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!until()) {
        try {
          const r = await request(url);
          if (r.status === 200) ok++;
          else failed.push(`${r.status} ${r.body}`);
        } catch (err) {
          failed.push(String(err));
        }
      }
    }),
  );
  return { ok, failed };
}

test('reload under steady load (POST /reload, file change, SIGHUP) drops no request; a bad config is rejected whole', async () => {
  const up = await startUpstream();
  const gw = await startGateway(config(up.origin, 'v1'));
  let done = false;
  const traffic = load(gw.url('/api/x'), () => done);
  try {
    const admin = (path: string, method = 'GET') => request(`http://127.0.0.1:${gw.adminPort}${path}`, { method });

    assert.equal((await request(gw.url('/version'))).body, 'v1');
    writeFileSync(gw.configFile, config(up.origin, 'v2'));
    const viaAdmin = await admin('/reload', 'POST');
    assert.equal(viaAdmin.status, 200);
    assert.equal((await request(gw.url('/version'))).body, 'v2');

    writeFileSync(gw.configFile, config(up.origin, 'v3'));
    await gw.waitForLog((l) => l.msg === 'config reloaded' && l.source === 'file');
    assert.equal((await request(gw.url('/version'))).body, 'v3');

    writeFileSync(gw.configFile, config(up.origin, 'v4') + 'bogus: 1\n');
    const rejected = await admin('/reload', 'POST');
    assert.equal(rejected.status, 400);
    const err = json(rejected).error;
    assert.equal(err.code, 'SLUICE_ERR_CONFIG_INVALID');
    assert.ok(err.issues[0].startsWith(`${gw.configFile}:`), err.issues[0]);
    assert.match(err.issues[0], /:7:1 bogus: unknown field "bogus"/);
    assert.equal((await request(gw.url('/version'))).body, 'v3', 'the running config stays');

    writeFileSync(gw.configFile, config(up.origin, 'v5'));
    await sleep(400); // let the file watcher's reload (if any) settle first
    gw.proc.kill('SIGHUP');
    await gw.waitForLog((l) => l.msg === 'config reloaded' && l.source === 'SIGHUP');
    assert.equal((await request(gw.url('/version'))).body, 'v5');
  } finally {
    done = true;
  }
  const { ok, failed } = await traffic;
  assert.deepEqual(failed, []);
  assert.ok(ok > 50, `only ${ok} requests went through`);
  assert.equal(await gw.stop(), 0);
  await up.close();
});

test('SIGTERM drains: /readyz turns 503, in-flight requests finish, the process exits 0', async () => {
  const up = await startUpstream((_req, res) => setTimeout(() => res.end('slow done'), 1500));
  const gw = await startGateway(config(up.origin, 'v1'));
  const readyz = () => request(`http://127.0.0.1:${gw.adminPort}/readyz`);
  assert.equal((await readyz()).status, 200);
  assert.equal((await request(`http://127.0.0.1:${gw.adminPort}/healthz`)).status, 200);
  const inFlight = Array.from({ length: 4 }, () => request(gw.url('/api/slow')));
  await sleep(300);
  gw.proc.kill('SIGTERM');
  await gw.waitForLog((l) => l.msg === 'draining');
  assert.equal((await readyz()).status, 503);
  const answers = await Promise.all(inFlight);
  assert.deepEqual(
    answers.map((a) => a.body),
    ['slow done', 'slow done', 'slow done', 'slow done'],
  );
  assert.equal(await gw.exited, 0);
  assert.doesNotMatch(gw.stderr.join(''), /uv_loop_close|Assertion|Aborted/);
  const stopped = gw.logs.find((l) => l.msg === 'stopped');
  assert.equal(stopped?.abandoned, 0);
  await up.close();
});

test('a port already in use is detected instead of silently sharing it (SO_REUSEPORT)', async () => {
  const up = await startUpstream();
  const first = await startGateway(config(up.origin, 'v1'));
  const second = await startGatewayFile(first.configFile, { SLUICE_PORT: String(first.port) }).then(
    () => assert.fail('second gateway started'),
    (err: Error) => err.message,
  );
  assert.match(second, /SLUICE_ERR_PORT_IN_USE/);
  assert.equal(await first.stop(), 0);
  await up.close();
});

test("a restart on the same port works at once, even with the old listener's connections in TIME_WAIT", async () => {
  const up = await startUpstream();
  const first = await startGateway(config(up.origin, 'v1'));
  // Idle keep-alive connections are closed by the gateway itself when it stops: that leaves
  // TIME_WAIT sockets on its port, which made a bind probe report the port as taken.
  const idle = await Promise.all(Array.from({ length: 4 }, () => keepAliveConnection(first.port)));
  assert.equal(await first.stop(), 0);
  for (const s of idle) s.destroy();
  const second = await startGatewayFile(first.configFile, { SLUICE_PORT: String(first.port) });
  assert.equal((await request(second.url('/version'))).body, 'v1');
  assert.equal(await second.stop(), 0);
  await up.close();
});

test('the pure-JS uWS fallback is refused at start', async () => {
  const r = await runCli(['start', '--config', new URL('../../../config/sluice.yaml', import.meta.url).pathname], {
    UWS_USE_FALLBACK: '1',
    SLUICE_PORT: '0',
    SLUICE_ADMIN_PORT: '0',
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SLUICE_ERR_UWS_FALLBACK/);
});

test("npm start's demo config proxies to the echo upstream", async () => {
  const file = new URL('../../../config/sluice.yaml', import.meta.url).pathname;
  assert.equal((await runCli(['validate', '--config', file])).code, 0);
  const gw = await startGatewayFile(file, {}, 'demo');
  try {
    assert.equal((await request(gw.url('/ping'))).body, 'pong\n');
    const echoed = json(await request(gw.url('/api/v1/users/42?q=1')));
    assert.equal(echoed.method, 'GET');
    assert.equal(echoed.path, '/v1/users/42');
    assert.deepEqual(echoed.query, { q: '1' });
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

test('the sluice command starts node with --single-threaded-gc, and its ready line says so', async () => {
  const bin = new URL('../../../bin/sluice.js', import.meta.url).pathname;
  const file = new URL('../../../config/sluice.yaml', import.meta.url).pathname;
  const proc = spawn(bin, ['start', '--config', file], {
    env: { ...process.env, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', SLUICE_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(proc, 'exit');
  let ready: Record<string, unknown> | null = null;
  try {
    for await (const line of createInterface({ input: proc.stdout! })) {
      if (line.includes('"sluice ready"')) {
        ready = JSON.parse(line);
        break;
      }
    }
  } finally {
    proc.kill('SIGTERM');
  }
  assert.equal(ready?.gc, 'single-threaded');
  assert.deepEqual(await exited, [0, null]);
});

/** A connection that made one request and stays open, idle. */
function keepAliveConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /version HTTP/1.1\r\nHost: a\r\n\r\n'));
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}
