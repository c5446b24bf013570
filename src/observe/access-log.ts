import { fstatSync, writeSync } from 'node:fs';
import { REDACTED } from '../config/redact.js';
import type { ErrorCode } from '../errors/catalog.js';
import { type AccessFormat, F } from './access-fields.js';
import { putAscii, putInt, putMillis, putNullable, putString, stringBound } from './json-bytes.js';
import { maskQuery } from './mask.js';

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
  /** Request body bytes received. */
  readonly bytesIn: number;
  readonly durationMs: number;
  readonly clientAddress: string;
  readonly errorCode: ErrorCode | null;
  /** Upstream tries (logged as "attempts" when more than one). */
  readonly tries: number;
  readonly scheme: string;
  readonly host: string;
  readonly trace: { readonly traceId: string } | null;
  readonly principal: { readonly subject: string } | null;
  header(lowerName: string): string | undefined;
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

/** The start of a line up to the request id, per level, rebuilt when the millisecond or the format changes. */
interface LinePrefix {
  readonly level: string;
  ms: number;
  format: AccessFormat | null;
  bytes: Buffer;
}

/** `,"route":…,"upstream":…,"endpoint":…,"status":` (the selected ones) for the last names seen. */
interface LineWhere {
  readonly format: AccessFormat;
  readonly route: string | null;
  readonly upstream: string | null;
  readonly endpoint: string | null;
  readonly bytes: Buffer;
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
  private readonly info: LinePrefix = { level: 'info', ms: -1, format: null, bytes: Buffer.alloc(0) };
  private readonly warn: LinePrefix = { level: 'warn', ms: -1, format: null, bytes: Buffer.alloc(0) };
  private lastWhere: LineWhere | null = null;
  /** The User-Agent and request header values of the line being written (opt-in fields only). */
  private userAgent: string | null = null;
  private readonly headerValues: (string | undefined)[] = [];
  private readonly buf = Buffer.allocUnsafe(4 * BATCH_BYTES);
  private pos = 0;
  private readonly timer: NodeJS.Timeout;

  /** `fd`: write synchronously to it; null: hand batches to `sink`. */
  /** `bindings`: the thread's pid and worker index, written when those fields are selected. */
  constructor(
    private readonly sink: LineSink,
    private readonly bindings: { readonly pid: number; readonly worker: number },
    private readonly fd: number | null = syncFd(1),
  ) {
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

  /**
   * Hot path: the line goes straight into the batch buffer, or into a buffer of its own when longer.
   * The format's field bits decide what is written; the default fields cost one `&` each, and the
   * opt-in fields at the end one check for all of them.
   */
  write(r: AccessRecord, f: AccessFormat): void {
    const notable = r.status >= 500 || r.status === 499;
    if (notable ? !f.warn : !f.info || (f.sample < 1 && Math.random() >= f.sample)) return;
    const on = f.fields;
    const raw = r.logQuery ?? r.query;
    const query = raw === '' || (on & F.query) === 0 ? '' : maskQuery(raw, f.secretQuery);
    const trace = (on & F.trace_id) === 0 ? null : r.trace;
    const prefix = this.prefix(notable ? this.warn : this.info, f);
    const where = this.where(f, r.logRoute, r.upstreamName, r.endpoint);
    let bound =
      prefix.length +
      where.length +
      FIXED_BYTES +
      stringBound(r.id) +
      stringBound(r.method) +
      stringBound(r.logPath) +
      stringBound(query) +
      stringBound(r.clientAddress);
    if (f.extras) bound += this.extrasBound(r, f);
    if (bound > this.buf.length - this.pos) this.flush();
    const own = bound > this.buf.length;
    const b = own ? Buffer.allocUnsafe(bound) : this.buf;
    let at = own ? 0 : this.pos;
    b.set(prefix, at);
    at += prefix.length;
    if ((on & F.request_id) !== 0) at = putString(b, at, r.id);
    if (trace !== null) at = putString(b, putAscii(b, at, ',"trace_id":'), trace.traceId);
    if ((on & F.method) !== 0) at = putString(b, putAscii(b, at, ',"method":'), r.method);
    if ((on & F.path) !== 0) at = putString(b, putAscii(b, at, ',"path":'), r.logPath);
    if (query !== '') at = putString(b, putAscii(b, at, ',"query":'), query);
    b.set(where, at);
    at += where.length;
    if ((on & F.status) !== 0) at = putInt(b, at, r.status);
    if ((on & F.bytes) !== 0) at = putInt(b, putAscii(b, at, ',"bytes":'), r.bytesOut);
    if ((on & F.duration_ms) !== 0) at = putMillis(b, putAscii(b, at, ',"duration_ms":'), r.durationMs);
    if ((on & F.remote) !== 0) at = putString(b, putAscii(b, at, ',"remote":'), r.clientAddress);
    if (r.errorCode !== null && (on & F.code) !== 0) at = putString(b, putAscii(b, at, ',"code":'), r.errorCode);
    if (r.tries > 1 && (on & F.attempts) !== 0) at = putInt(b, putAscii(b, at, ',"attempts":'), r.tries);
    if (f.extras) at = this.putExtras(b, at, r, f);
    b[at++] = 0x7d;
    b[at++] = 0x0a;
    if (own) return this.writeOut(b, at);
    this.pos = at;
    if (at >= BATCH_BYTES) this.flush();
  }

  /** Room for the opt-in fields; reads the request headers once each, for putExtras. */
  private extrasBound(r: AccessRecord, f: AccessFormat): number {
    const on = f.fields;
    let n = FIXED_BYTES + stringBound(r.scheme) + stringBound(r.host);
    this.userAgent = (on & F.user_agent) !== 0 ? (r.header('user-agent') ?? null) : null;
    n += stringBound(this.userAgent);
    if (r.principal !== null) n += stringBound(r.principal.subject);
    const values = this.headerValues;
    const hs = f.requestHeaders;
    for (let i = 0; i < hs.length; i++) {
      const v = r.header(hs[i].name);
      values[i] = v;
      if (v !== undefined) n += hs[i].key.length + 2 + (hs[i].masked ? REDACTED.length + 2 : stringBound(v));
    }
    return n;
  }

  /** `,"scheme":…,"host":…,"bytes_in":…,"user_agent":…,"principal":…,"req_headers":{…}`, the selected ones. */
  private putExtras(b: Buffer, at: number, r: AccessRecord, f: AccessFormat): number {
    const on = f.fields;
    if ((on & F.scheme) !== 0) at = putString(b, putAscii(b, at, ',"scheme":'), r.scheme);
    if ((on & F.host) !== 0) at = putString(b, putAscii(b, at, ',"host":'), r.host);
    if ((on & F.bytes_in) !== 0) at = putInt(b, putAscii(b, at, ',"bytes_in":'), r.bytesIn);
    if ((on & F.user_agent) !== 0) at = putNullable(b, putAscii(b, at, ',"user_agent":'), this.userAgent);
    if ((on & F.principal) !== 0) at = putNullable(b, putAscii(b, at, ',"principal":'), r.principal === null ? null : r.principal.subject);
    const hs = f.requestHeaders;
    if (hs.length === 0) return at;
    at = putAscii(b, at, ',"req_headers":{');
    let first = true;
    for (let i = 0; i < hs.length; i++) {
      const v = this.headerValues[i];
      if (v === undefined) continue;
      if (!first) b[at++] = 0x2c;
      first = false;
      at = putString(b, putAscii(b, at, hs[i].key), hs[i].masked ? REDACTED : v);
    }
    b[at++] = 0x7d;
    return at;
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
   * `,"route":…,"upstream":…,"endpoint":…,"status":` (those selected) as bytes, kept for the last
   * three names seen: consecutive requests mostly share them (and they are the plan's own string
   * objects, which compare equal at the first, pointer, check).
   */
  private where(f: AccessFormat, route: string | null, upstream: string | null, endpoint: string | null): Buffer {
    const w = this.lastWhere;
    if (w !== null && route === w.route && upstream === w.upstream && endpoint === w.endpoint && f === w.format) return w.bytes;
    const on = f.fields;
    const b = Buffer.allocUnsafe(FIXED_BYTES + stringBound(route) + stringBound(upstream) + stringBound(endpoint));
    let at = 0;
    if ((on & F.route) !== 0) at = putNullable(b, putAscii(b, at, ',"route":'), route);
    if ((on & F.upstream) !== 0) at = putNullable(b, putAscii(b, at, ',"upstream":'), upstream);
    if ((on & F.endpoint) !== 0) at = putNullable(b, putAscii(b, at, ',"endpoint":'), endpoint);
    if ((on & F.status) !== 0) at = putAscii(b, at, ',"status":');
    this.lastWhere = { format: f, route, upstream, endpoint, bytes: b.subarray(0, at) };
    return this.lastWhere.bytes;
  }

  /** The line's start with this millisecond's time: rebuilt once per millisecond, not per request. */
  private prefix(p: LinePrefix, f: AccessFormat): Buffer {
    const now = Date.now();
    if (now !== p.ms || f !== p.format) {
      p.ms = now;
      p.format = f;
      const on = f.fields;
      const time = (on & F.time) !== 0 ? `,"time":"${new Date(now).toISOString()}"` : '';
      const pid = (on & F.pid) !== 0 ? `,"pid":${this.bindings.pid}` : '';
      const worker = (on & F.worker) !== 0 ? `,"worker":${this.bindings.worker}` : '';
      const id = (on & F.request_id) !== 0 ? ',"request_id":' : '';
      p.bytes = Buffer.from(`{"level":"${p.level}"${time}${pid}${worker},"type":"access"${id}`);
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
