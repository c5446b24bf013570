import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { AccessLog, type AccessRecord } from '../../src/observe/access-log.js';

function record(over: Partial<AccessRecord> = {}): AccessRecord {
  return {
    id: 'c43438c5-06d5-47ac-ab65-cbda9e8b084e',
    method: 'GET',
    logPath: '/tiny',
    query: '',
    logQuery: null,
    logRoute: 'all',
    upstreamName: 'origin',
    endpoint: 'http://127.0.0.1:7001',
    status: 200,
    bytesOut: 11,
    durationMs: 0.5934,
    clientAddress: '127.0.0.1',
    errorCode: null,
    tries: 1,
    ...over,
  };
}

/** Lines written through a file descriptor (the synchronous path), and through a sink (pipes). */
function bothWays(write: (log: AccessLog) => void): { file: string; sink: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-access-'));
  const fd = openSync(join(dir, 'access.log'), 'w');
  const toFile = new AccessLog({ write: () => assert.fail('a file-backed log never uses the sink') }, { pid: 1, worker: 0 }, fd);
  write(toFile);
  toFile.close();
  closeSync(fd);
  const file = readFileSync(join(dir, 'access.log'), 'utf8');
  rmSync(dir, { recursive: true });
  let sink = '';
  const toSink = new AccessLog(
    {
      write: (s: string) => {
        sink += s;
      },
    },
    { pid: 1, worker: 0 },
    null,
  );
  write(toSink);
  toSink.close();
  return { file, sink };
}

test('access lines are JSON with every field, the same through a file and through a sink', () => {
  const { file, sink } = bothWays((log) => {
    log.write(record(), true, true, 1);
    log.write(
      record({ status: 502, errorCode: 'SLUICE_ERR_UPSTREAM_RESET', tries: 2, durationMs: 12, logRoute: null, upstreamName: null, endpoint: null }),
      true,
      true,
      1,
    );
  });
  assert.equal(file.replace(/"time":"[^"]+"/g, ''), sink.replace(/"time":"[^"]+"/g, ''));
  const [ok, failed] = file
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    { ...ok, time: undefined },
    {
      level: 'info',
      time: undefined,
      pid: 1,
      worker: 0,
      type: 'access',
      request_id: 'c43438c5-06d5-47ac-ab65-cbda9e8b084e',
      method: 'GET',
      path: '/tiny',
      route: 'all',
      upstream: 'origin',
      endpoint: 'http://127.0.0.1:7001',
      status: 200,
      bytes: 11,
      duration_ms: 0.593,
      remote: '127.0.0.1',
    },
  );
  assert.equal(failed.level, 'warn');
  assert.equal(failed.code, 'SLUICE_ERR_UPSTREAM_RESET');
  assert.equal(failed.attempts, 2);
  assert.equal(failed.route, null);
  assert.equal(failed.duration_ms, 12);
});

test('durations are milliseconds rounded to the microsecond', () => {
  const ms = [0.5934, 0.05, 0.0004, 1.0004, 999.9996, 12345.6785];
  const { file } = bothWays((log) => {
    for (const durationMs of ms) log.write(record({ durationMs }), true, true, 1);
  });
  assert.deepEqual(
    file
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).duration_ms),
    [0.593, 0.05, 0, 1, 1000, 12345.679],
  );
  assert.match(file, /"duration_ms":0\.05,/);
});

test('quotes, controls and UTF-8 in logged values stay valid JSON; secrets in the query are masked', () => {
  const path = '/caf\u00e9/\u4f60\u597d/"q"\\';
  const { file } = bothWays((log) => log.write(record({ logPath: path, query: 'a=1&token=abc\u0001&x=\u20ac' }), true, true, 1));
  const line = JSON.parse(file);
  assert.equal(line.path, path);
  assert.equal(line.query, 'a=1&token=[redacted]&x=\u20ac');
});

test('levels and sampling: info lines off, 5xx and 499 still written; batches larger than the buffer all arrive', () => {
  const { file } = bothWays((log) => {
    log.write(record(), false, true, 1);
    log.write(record({ status: 499 }), false, true, 1);
    log.write(record({ status: 200 }), true, true, 0); // sampled away
    for (let i = 0; i < 3000; i++) log.write(record({ bytesOut: i }), true, true, 1);
  });
  const lines = file
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines[0].status, 499);
  assert.equal(lines.length, 3001);
  assert.deepEqual(
    lines.slice(1).map((l) => l.bytes),
    Array.from({ length: 3000 }, (_, i) => i),
  );
});

test('a line longer than the batch buffer is still written whole', () => {
  const long = '/' + 'a'.repeat(300_000);
  const { file, sink } = bothWays((log) => {
    log.write(record(), true, true, 1);
    log.write(record({ logPath: long }), true, true, 1);
  });
  for (const out of [file, sink]) {
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(lines[1].path, long);
  }
});

test('each line names its own route, upstream and endpoint when consecutive requests differ', () => {
  const where = [
    ['a', 'up1', 'http://127.0.0.1:1'],
    ['b', 'up1', 'http://127.0.0.1:1'],
    ['b', 'up2', 'http://127.0.0.1:2'],
    [null, null, null],
    ['a', 'up1', 'http://127.0.0.1:1'],
  ] as const;
  const { file } = bothWays((log) => {
    for (const [logRoute, upstreamName, endpoint] of where) log.write(record({ logRoute, upstreamName, endpoint }), true, true, 1);
  });
  assert.deepEqual(
    file
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((l) => [l.route, l.upstream, l.endpoint]),
    where,
  );
});
