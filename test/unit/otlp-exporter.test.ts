import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { OtlpExporter, QUEUE_SPANS } from '../../src/observe/otlp-exporter.js';
import { unixNano } from '../../src/observe/otlp-json.js';
import { SERVER, type Span } from '../../src/observe/span.js';

const span = (i: number): Span => ({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: i.toString(16).padStart(16, '0'),
  parentSpanId: null,
  name: 'GET r',
  kind: SERVER,
  startMs: 1_700_000_000_000.25,
  endMs: 1_700_000_000_001.5,
  attributes: ['http.response.status_code', 200, 'http.route', 'r'],
  error: false,
});

test('epoch milliseconds become exact nanosecond strings', () => {
  assert.equal(unixNano(1_700_000_000_000.25), '1700000000000250000');
  assert.equal(unixNano(1_700_000_000_001), '1700000000001000000');
  assert.equal(unixNano(5.9999999), '6000000'); // rounding carries into the milliseconds
});

test('a full queue drops and counts; close() sends what is queued, in batches', async () => {
  const sockets = new Set<Socket>();
  let received = 0;
  let hold = true;
  const held: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        received += JSON.parse(Buffer.concat(chunks).toString()).resourceSpans[0].scopeSpans[0].spans.length;
        res.writeHead(200).end('{}');
      };
      if (hold) held.push(answer);
      else answer();
    });
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  const e = new OtlpExporter({ url, headers: [], timeoutMs: 5000 }, 'svc', pino({ level: 'silent' }));
  const extra = 100;
  // The first full batch leaves at once and is held by the receiver; the rest queue up to the bound.
  for (let i = 0; i < QUEUE_SPANS + 512 + extra; i++) e.add(span(i));
  assert.equal(e.dropped, extra);
  hold = false;
  for (const a of held.splice(0)) a();
  await e.close();
  assert.equal(received, QUEUE_SPANS + 512);
  assert.equal(e.exported, QUEUE_SPANS + 512);
  e.add(span(0));
  assert.equal(e.dropped, extra + 1, 'a closed exporter takes nothing');
  for (const s of sockets) s.destroy();
  await new Promise((ok) => server.close(ok));
});
