/**
 * What the upstream client costs, apart from everything else the gateway does: CPU per request of one
 * process that only sends tiny GETs to the perf origin with 64 requests in flight, through
 *
 *   undici-handler-v2   Pool.dispatch with undici 7's newer handler API (onRequestStart...): wrapped
 *                       per request, headers parsed into an object (what sluice used before)
 *   undici-handler-v1   Pool.dispatch with the original handler API (onConnect, onHeaders with raw
 *                       Buffers): what sluice used until it had its own client
 *   sluice-http1        sluice's own client (upstream/http1/): what the gateway uses now
 *   raw-socket-floor    64 keep-alive net.Sockets, the head written as one string, responses framed by
 *                       Content-Length only: not a client (no chunked bodies, timeouts, pool or errors),
 *                       the floor any Node HTTP/1.1 client stands on
 *
 *   npm run build && node dist/perf/upstream-client.js [--requests 50000] [--rounds 5] [--pin]
 *
 * The origin runs on the last CPU and this process on the first with --pin. Medians of the rounds,
 * which alternate between the clients.
 */
import net from 'node:net';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type Dispatcher, Pool } from 'undici';
import { Http1Pool } from '../src/upstream/http1/pool.js';
import type { ParsedHead } from '../src/upstream/http1/response-head.js';
import type { UpstreamTry } from '../src/upstream/http1/upstream-try.js';
import { pinSelf, startOrigin } from './processes.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '5' }, pin: { type: 'boolean', default: false } },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const IN_FLIGHT = 64;
/** What sluice sends for a tiny GET from wrk. */
const HEADERS = [
  'host',
  'localhost',
  'user-agent',
  'wrk',
  'x-forwarded-for',
  '127.0.0.1',
  'x-forwarded-proto',
  'http',
  'x-forwarded-host',
  'localhost',
  'x-request-id',
  'c43438c5-06d5-47ac-ab65-cbda9e8b084e',
  'via',
  '1.1 sluice',
];

let sink = 0; // keeps the callbacks' reads from being optimised away

type Client = (done: () => void) => void;

function undiciV2(pool: Pool): Client {
  class Handler implements Dispatcher.DispatchHandler {
    constructor(private readonly done: () => void) {}
    onRequestStart(): void {}
    onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
      for (const k in headers) sink += k.length;
      sink += status;
    }
    onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
      sink += chunk.length;
    }
    onResponseEnd(): void {
      this.done();
    }
    onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
      throw err;
    }
  }
  return (done) => {
    pool.dispatch({ path: '/tiny', method: 'GET', headers: HEADERS }, new Handler(done));
  };
}

function undiciV1(pool: Pool): Client {
  class Handler implements Dispatcher.DispatchHandler {
    constructor(private readonly done: () => void) {}
    onConnect(): void {}
    onHeaders(status: number, raw: Buffer[]): boolean {
      for (let i = 0; i < raw.length; i += 2) sink += raw[i].length;
      sink += status;
      return true;
    }
    onData(chunk: Buffer): boolean {
      sink += chunk.length;
      return true;
    }
    onComplete(): void {
      this.done();
    }
    onError(err: Error): void {
      throw err;
    }
  }
  return (done) => {
    pool.dispatch({ path: '/tiny', method: 'GET', headers: HEADERS }, new Handler(done));
  };
}

function sluiceHttp1(pool: Http1Pool): Client {
  class Try implements UpstreamTry {
    readonly method = 'GET';
    readonly path = '/tiny';
    readonly headers = HEADERS;
    readonly body = null;
    readonly chunkedBody = false;
    readonly headersTimeoutMs = 0;
    link: unknown = null;
    resent = false;
    constructor(private readonly done: () => void) {}
    onHeaders(head: ParsedHead): void {
      sink += head.lines.at.length + head.status;
    }
    onData(chunk: Buffer): boolean {
      sink += chunk.length;
      return true;
    }
    onComplete(): void {
      this.done();
    }
    onError(err: Error): void {
      throw err;
    }
    onResend(): void {}
  }
  return (done) => {
    pool.dispatch(new Try(done));
  };
}

async function rawSockets(port: number): Promise<Client> {
  let head = 'GET /tiny HTTP/1.1\r\n';
  for (let i = 0; i < HEADERS.length; i += 2) head += `${HEADERS[i]}: ${HEADERS[i + 1]}\r\n`;
  head += '\r\n';
  const idle: net.Socket[] = [];
  const waiting = new Map<net.Socket, () => void>();
  await Promise.all(
    Array.from(
      { length: IN_FLIGHT },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            idle.push(socket);
            resolve();
          });
          socket.setNoDelay(true);
          let pending: Buffer | null = null;
          socket.on('data', (data: Buffer) => {
            const buf: Buffer = pending === null ? data : Buffer.concat([pending, data]);
            const end = buf.indexOf('\r\n\r\n');
            const length = end < 0 ? -1 : contentLength(buf, end);
            if (end < 0 || buf.length < end + 4 + length) {
              pending = buf;
              return;
            }
            pending = null;
            sink += length;
            const done = waiting.get(socket)!;
            idle.push(socket);
            done();
          });
        }),
    ),
  );
  return (done) => {
    const socket = idle.pop()!;
    waiting.set(socket, done);
    socket.write(head, 'latin1');
  };
}

/** The Content-Length of a head ending at `end` (names compared ignoring case). */
function contentLength(buf: Buffer, end: number): number {
  let line = buf.indexOf('\r\n') + 2;
  while (line < end) {
    const eol = buf.indexOf('\r\n', line);
    if (eol - line > 15 && (buf[line] | 0x20) === 0x63 && buf.toString('latin1', line, line + 15).toLowerCase() === 'content-length:') {
      return Number(buf.toString('latin1', line + 15, eol).trim());
    }
    line = eol + 2;
  }
  return 0;
}

/** CPU µs per request for `n` requests, IN_FLIGHT at a time. */
function measure(client: Client, n: number): Promise<number> {
  return new Promise((resolve) => {
    const before = process.cpuUsage();
    let started = 0;
    let finished = 0;
    const next = (): void => {
      if (++finished === n) {
        const used = process.cpuUsage(before);
        return resolve((used.user + used.system) / n);
      }
      if (started < n) {
        started++;
        client(next);
      }
    };
    for (; started < Math.min(IN_FLIGHT, n); ) {
      started++;
      client(next);
    }
  });
}

const last = String(cpus().length - 1);
const origin = await startOrigin(values.pin ? last : null);
if (values.pin) pinSelf('0');
const pool = new Pool(`http://127.0.0.1:${origin.port}`, { connections: IN_FLIGHT });
const http1 = new Http1Pool(
  {
    host: '127.0.0.1',
    port: origin.port,
    tls: null,
    pipelining: 1,
    keepAliveMs: 4000,
    connectMs: 2000,
    headersMs: 15000,
    idleMs: 60000,
    maxHeadBytes: 16384,
    maxHeadLines: 100,
  },
  IN_FLIGHT,
);
const clients: Record<string, Client> = {
  'undici-handler-v2': undiciV2(pool),
  'undici-handler-v1': undiciV1(pool),
  'sluice-http1': sluiceHttp1(http1),
  'raw-socket-floor': await rawSockets(origin.port),
};
const results: Record<string, number[]> = {};
for (const [name, client] of Object.entries(clients)) {
  await measure(client, 20_000);
  results[name] = [];
}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, client] of Object.entries(clients)) results[name].push(await measure(client, REQUESTS));
}
console.log(`| client | CPU µs per request (median of ${ROUNDS}) | all rounds |`);
console.log('|---|---|---|');
for (const [name, runs] of Object.entries(results)) {
  const sorted = [...runs].sort((a, b) => a - b);
  console.log(`| ${name} | ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} | ${runs.map((r) => r.toFixed(1)).join(', ')} |`);
}
await pool.destroy();
http1.destroy();
await origin.stop();
process.exit(sink === -1 ? 1 : 0);
