import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { DEFAULT_ACCESS_LOG_FIELDS } from '../../src/config/schema.js';
import { type AccessFormat, accessFormat } from '../../src/observe/access-fields.js';
import { AccessLog, type AccessRecord } from '../../src/observe/access-log.js';

const QUERY_SECRETS = ['token', 'key', 'secret', 'password', 'passwd', 'auth', 'signature', 'session', 'credential'];

/** A format as a worker builds it from plan.log; defaults as config has them. */
function format(
  over: { fields?: readonly string[]; requestHeaders?: readonly string[]; maskHeaders?: readonly string[]; info?: boolean; sample?: number } = {},
): AccessFormat {
  return accessFormat(
    {
      sample: over.sample ?? 1,
      access: { enabled: true, fields: over.fields ?? DEFAULT_ACCESS_LOG_FIELDS, requestHeaders: over.requestHeaders ?? [] },
      mask: { headers: over.maskHeaders ?? ['authorization', 'cookie'], queryParams: QUERY_SECRETS },
    },
    over.info ?? true,
    true,
  );
}
const DEFAULT = format();

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
    bytesIn: 0,
    scheme: 'http',
    host: 'example.test',
    trace: null,
    principal: null,
    header: () => undefined,
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
    log.write(record(), DEFAULT);
    log.write(
      record({ status: 502, errorCode: 'SLUICE_ERR_UPSTREAM_RESET', tries: 2, durationMs: 12, logRoute: null, upstreamName: null, endpoint: null }),
      DEFAULT,
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
    for (const durationMs of ms) log.write(record({ durationMs }), DEFAULT);
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
  const { file } = bothWays((log) => log.write(record({ logPath: path, query: 'a=1&token=abc\u0001&x=\u20ac' }), DEFAULT));
  const line = JSON.parse(file);
  assert.equal(line.path, path);
  assert.equal(line.query, 'a=1&token=[redacted]&x=\u20ac');
});

test('levels and sampling: info lines off, 5xx and 499 still written; batches larger than the buffer all arrive', () => {
  const { file } = bothWays((log) => {
    log.write(record(), format({ info: false }));
    log.write(record({ status: 499 }), format({ info: false }));
    log.write(record({ status: 200 }), format({ sample: 0 })); // sampled away
    for (let i = 0; i < 3000; i++) log.write(record({ bytesOut: i }), DEFAULT);
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
    log.write(record(), DEFAULT);
    log.write(record({ logPath: long }), DEFAULT);
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
    for (const [logRoute, upstreamName, endpoint] of where) log.write(record({ logRoute, upstreamName, endpoint }), DEFAULT);
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

test('a selection writes those fields only, in line order, whatever the config order', () => {
  const fields = ['status', 'path', 'host', 'bytes_in', 'principal', 'scheme', 'user_agent'];
  const headers = (name: string) => ({ 'user-agent': 'ua/2' })[name as 'user-agent'];
  const { file, sink } = bothWays((log) =>
    log.write(record({ bytesIn: 42, principal: { subject: 'team-a' }, scheme: 'https', header: headers }), format({ fields })),
  );
  assert.equal(file, sink);
  assert.equal(
    file,
    '{"level":"info","type":"access","path":"/tiny","status":200,"scheme":"https","host":"example.test","bytes_in":42,"user_agent":"ua/2","principal":"team-a"}\n',
  );
});

test('trace_id is written when the request has a trace, left out when not', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const { file } = bothWays((log) => {
    log.write(record({ trace: { traceId } }), DEFAULT);
    log.write(record(), DEFAULT);
    log.write(record({ trace: { traceId } }), format({ fields: ['status'] }));
  });
  const [traced, untraced, unselected] = file
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(traced.trace_id, traceId);
  assert.deepEqual(Object.keys(traced).slice(5, 8), ['request_id', 'trace_id', 'method']);
  assert.equal('trace_id' in untraced, false);
  assert.equal('trace_id' in unselected, false);
});

test('request headers: masked by name, odd values escaped, absent ones left out', () => {
  const sent: Record<string, string> = { authorization: 'Bearer abc', 'x-odd': 'a"b\\c\u0001\u00e9\u4f60\ud800', cookie: 'sid=1' };
  const { file } = bothWays((log) =>
    log.write(
      record({ header: (n) => sent[n] }),
      format({ fields: ['status'], requestHeaders: ['authorization', 'x-odd', 'x-none', 'cookie'], maskHeaders: ['authorization', 'cookie'] }),
    ),
  );
  assert.deepEqual(JSON.parse(file).req_headers, { authorization: '[redacted]', 'x-odd': sent['x-odd'], cookie: '[redacted]' });
  assert.ok(!file.includes('abc') && !file.includes('sid=1'));
});

test('formats of two config generations interleave without one line taking the other shape', () => {
  const wide = DEFAULT;
  const narrow = format({ fields: ['route', 'status'] });
  const { file } = bothWays((log) => {
    for (const f of [wide, narrow, narrow, wide]) log.write(record(), f);
  });
  const keys = file
    .trim()
    .split('\n')
    .map((l) => Object.keys(JSON.parse(l)).length);
  assert.deepEqual(keys, [15, 4, 4, 15]);
});
