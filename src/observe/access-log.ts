import { fstatSync, writeSync } from 'node:fs';
import type { ErrorCode } from '../errors/catalog.js';
import { putAscii, putInt, putMillis, putNullable, putString, stringBound } from './json-bytes.js';

/** Query parameters whose values are masked in access logs (compared lower-case, substring). */
const SECRET_PARAM = /token|key|secret|password|passwd|auth|signature|session|credential/i;

/** What a line says about a request: the exchange is passed as is (no record allocated). */
export interface AccessRecord {
  readonly id: string;
  readonly method: string;
  readonly logPath: string;
  readonly query: string;
  /** What a stage made of the query for the log (a credential masked), or null: the query, generically masked. */
  readonly logQuery: string | null;
  readonly logRoute: string | null;
  readonly upstreamName: string | null;
  readonly endpoint: string | null;
  readonly status: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly clientAddress: string;
  readonly errorCode: ErrorCode | null;
  /** Upstream tries (logged as "attempts" when more than one). */
  readonly tries: number;
}

/** Where the lines go when fd 1 is a pipe or socket: the worker's pino destination (a sonic-boom). */
export interface LineSink {
  write(line: string): unknown;
}

/** Lines are written in batches of about this many bytes (nginx's access_log buffer=64k)... */
const BATCH_BYTES = 64 * 1024;
/** ...and at least this often, so a quiet gateway's lines are not held back. */
const FLUSH_MS = 1000;

/** Room for a line's keys, numbers, error code and closing bytes, beyond its strings and cached parts. */
const FIXED_BYTES = 512;

/** The start of a line up to the request id, per level, rebuilt when the millisecond changes. */
interface LinePrefix {
  readonly level: string;
  ms: number;
  bytes: Buffer;
}

/**
 * One JSON line per request, in the same shape as pino's lines, but written byte by byte into one
 * reused buffer (observe/json-bytes.ts) and batched: this runs for every request (perf/README.md has
 * the measurements).
 *
 * When fd 1 is a file, a terminal or /dev/null, batches are written synchronously from this thread, as
 * Node does for process.stdout on those (a 64 KiB write to the page cache takes microseconds; handing
 * it to the libuv thread pool costs more in wake-ups on a busy core). Pipes and sockets (a log shipper
 * that may fall behind) go through the asynchronous sink instead, so the event loop never blocks.
 *
 * Lines are at level info; 5xx and 499 (client went away) are at warn so they survive
 * `log.level: warn`, and are never sampled away.
 */
export class AccessLog {
  private readonly base: string;
  private readonly info: LinePrefix = { level: 'info', ms: -1, bytes: Buffer.alloc(0) };
  private readonly warn: LinePrefix = { level: 'warn', ms: -1, bytes: Buffer.alloc(0) };
  private lastWhere: { route: string | null; upstream: string | null; endpoint: string | null; bytes: Buffer } | null = null;
  private readonly buf = Buffer.allocUnsafe(4 * BATCH_BYTES);
  private pos = 0;
  private readonly timer: NodeJS.Timeout;

  /** `fd`: write synchronously to it; null: hand batches to `sink`. */
  constructor(
    private readonly sink: LineSink,
    bindings: Record<string, string | number>,
    private readonly fd: number | null = syncFd(1),
  ) {
    this.base = Object.entries(bindings)
      .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join('');
    this.timer = setInterval(() => this.flush(), FLUSH_MS).unref();
  }

  /** Write buffered lines out (also before the thread ends). */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.writeOut(this.buf, n);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** Hot path: the line goes straight into the batch buffer, or into a buffer of its own when longer. */
  write(r: AccessRecord, info: boolean, warn: boolean, sample: number): void {
    const notable = r.status >= 500 || r.status === 499;
    if (notable ? !warn : !info || (sample < 1 && Math.random() >= sample)) return;
    const raw = r.logQuery ?? r.query;
    const query = raw === '' ? '' : maskQuery(raw);
    const prefix = this.prefix(notable ? this.warn : this.info);
    const where = this.where(r.logRoute, r.upstreamName, r.endpoint);
    const bound =
      prefix.length +
      where.length +
      FIXED_BYTES +
      stringBound(r.id) +
      stringBound(r.method) +
      stringBound(r.logPath) +
      stringBound(query) +
      stringBound(r.clientAddress);
    if (bound > this.buf.length - this.pos) this.flush();
    const own = bound > this.buf.length;
    const b = own ? Buffer.allocUnsafe(bound) : this.buf;
    let at = own ? 0 : this.pos;
    b.set(prefix, at);
    at = putString(b, at + prefix.length, r.id);
    at = putString(b, putAscii(b, at, ',"method":'), r.method);
    at = putString(b, putAscii(b, at, ',"path":'), r.logPath);
    if (query !== '') at = putString(b, putAscii(b, at, ',"query":'), query);
    b.set(where, at);
    at = putInt(b, at + where.length, r.status);
    at = putInt(b, putAscii(b, at, ',"bytes":'), r.bytesOut);
    at = putMillis(b, putAscii(b, at, ',"duration_ms":'), r.durationMs);
    at = putString(b, putAscii(b, at, ',"remote":'), r.clientAddress);
    if (r.errorCode !== null) at = putString(b, putAscii(b, at, ',"code":'), r.errorCode);
    if (r.tries > 1) at = putInt(b, putAscii(b, at, ',"attempts":'), r.tries);
    b[at++] = 0x7d;
    b[at++] = 0x0a;
    if (own) return this.writeOut(b, at);
    this.pos = at;
    if (at >= BATCH_BYTES) this.flush();
  }

  private writeOut(b: Buffer, n: number): void {
    if (this.fd === null) {
      this.sink.write(b.toString('utf8', 0, n));
      return;
    }
    try {
      for (let off = 0; off < n; ) off += writeSync(this.fd, b, off, n - off);
    } catch {
      /* fd 1 closed: the lines are lost, the gateway goes on */
    }
  }

  /**
   * `,"route":…,"upstream":…,"endpoint":…,"status":` as bytes, kept for the last three names seen:
   * consecutive requests mostly share them (and they are the plan's own string objects, which compare
   * equal at the first, pointer, check).
   */
  private where(route: string | null, upstream: string | null, endpoint: string | null): Buffer {
    const w = this.lastWhere;
    if (w !== null && route === w.route && upstream === w.upstream && endpoint === w.endpoint) return w.bytes;
    const b = Buffer.allocUnsafe(FIXED_BYTES + stringBound(route) + stringBound(upstream) + stringBound(endpoint));
    let at = putNullable(b, putAscii(b, 0, ',"route":'), route);
    at = putNullable(b, putAscii(b, at, ',"upstream":'), upstream);
    at = putAscii(b, putNullable(b, putAscii(b, at, ',"endpoint":'), endpoint), ',"status":');
    this.lastWhere = { route, upstream, endpoint, bytes: b.subarray(0, at) };
    return this.lastWhere.bytes;
  }

  /** The line's start with this millisecond's time: rebuilt once per millisecond, not per request. */
  private prefix(p: LinePrefix): Buffer {
    const now = Date.now();
    if (now !== p.ms) {
      p.ms = now;
      p.bytes = Buffer.from(`{"level":"${p.level}","time":"${new Date(now).toISOString()}"${this.base},"type":"access","request_id":`);
    }
    return p.bytes;
  }
}

/** fd, when writing to it synchronously is what Node itself does for stdout (files, terminals); else null. */
function syncFd(fd: number): number | null {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket() ? null : fd;
  } catch {
    return null;
  }
}

export function maskQuery(query: string): string {
  if (!SECRET_PARAM.test(query)) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      return SECRET_PARAM.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
}
