import { fstatSync, writeSync } from 'node:fs';
import type { ErrorCode } from '../errors/catalog.js';

/** Query parameters whose values are masked in access logs (compared lower-case, substring). */
const SECRET_PARAM = /token|key|secret|password|passwd|auth|signature|session|credential/i;

/** What a line says about a request: the worker's Exchange is passed as is (no record allocated). */
export interface AccessRecord {
  readonly id: string;
  readonly method: string;
  readonly logPath: string;
  readonly query: string;
  readonly logRoute: string | null;
  readonly upstreamName: string | null;
  readonly endpoint: string | null;
  readonly status: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly remoteAddress: string;
  readonly errorCode: ErrorCode | null;
  readonly attempts: number;
}

/** Where the lines go when fd 1 is a pipe or socket: the worker's pino destination (a sonic-boom). */
export interface LineSink {
  write(line: string): unknown;
}

/** Lines are written in batches of about this many bytes (nginx's access_log buffer=64k)... */
const BATCH_BYTES = 64 * 1024;
/** ...and at least this often, so a quiet gateway's lines are not held back. */
const FLUSH_MS = 1000;

/**
 * One JSON line per request, in the same shape as pino's lines, but built by hand, copied into one
 * reused byte buffer and batched: this runs for every request (perf/README.md has the measurements).
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
  private lastMs = 0;
  private lastTime = '';
  private readonly buf = Buffer.allocUnsafe(4 * BATCH_BYTES) as Buffer & FastWrites;
  private pos = 0;
  private readonly timer: NodeJS.Timeout;

  /** `fd`: write synchronously to it; null: hand batches to `sink`. */
  constructor(private readonly sink: LineSink, bindings: Record<string, string | number>, private readonly fd: number | null = syncFd(1)) {
    this.base = Object.entries(bindings).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('');
    this.timer = setInterval(() => this.flush(), FLUSH_MS).unref();
  }

  /** Write buffered lines out (also before the thread ends). */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    if (this.fd === null) { this.sink.write(this.buf.toString('utf8', 0, n)); return; }
    try {
      for (let off = 0; off < n;) off += writeSync(this.fd, this.buf, off, n - off);
    } catch { /* fd 1 closed: the lines are lost, the gateway goes on */ }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** Hot path: the line is one flat string, copied into the batch buffer with one call. */
  write(r: AccessRecord, info: boolean, warn: boolean, sample: number): void {
    const notable = r.status >= 500 || r.status === 499;
    if (notable ? !warn : !info || (sample < 1 && Math.random() >= sample)) return;
    let line = `{"level":"${notable ? 'warn' : 'info'}","time":"${this.isoNow()}"${this.base},"type":"access","request_id":${str(r.id)}` +
      `,"method":${str(r.method)},"path":${str(r.logPath)}`;
    if (r.query !== '') line += `,"query":${str(maskQuery(r.query))}`;
    line += `,"route":${nullable(r.logRoute)},"upstream":${nullable(r.upstreamName)},"endpoint":${nullable(r.endpoint)}` +
      `,"status":${r.status},"bytes":${r.bytesOut},"duration_ms":${millis(r.durationMs)},"remote":${str(r.remoteAddress)}`;
    if (r.errorCode !== null) line += `,"code":"${r.errorCode}"`;
    if (r.attempts > 1) line += `,"attempts":${r.attempts}`;
    line += '}\n';
    // At most 3 bytes per UTF-16 unit: flush first if it might not fit.
    if (3 * line.length > this.buf.length - this.pos) this.flush();
    if (3 * line.length > this.buf.length) return this.writeOut(line);
    this.pos += this.buf.utf8Write(line, this.pos);
    if (this.pos >= BATCH_BYTES) this.flush();
  }

  /** A line longer than the buffer (a path of megabytes), written on its own. */
  private writeOut(line: string): void {
    if (this.fd === null) this.sink.write(line);
    else try { writeSync(this.fd, line); } catch { /* as in flush */ }
  }

  /** new Date().toISOString() once per millisecond, not once per request. */
  private isoNow(): string {
    const now = Date.now();
    if (now !== this.lastMs) { this.lastMs = now; this.lastTime = new Date(now).toISOString(); }
    return this.lastTime;
  }
}

/** Buffer methods Node has and its types do not declare: no encoding argument to parse per call. */
interface FastWrites {
  utf8Write(s: string, offset: number): number;
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

/** ".5", ".593", "" for 500, 593, 0 µs: the fraction of a duration, by table. */
const FRACTION: readonly string[] = Array.from({ length: 1000 }, (_, us) => us === 0 ? '' : `.${String(us).padStart(3, '0').replace(/0+$/, '')}`);

/**
 * Milliseconds rounded to the microsecond ("12", "0.593"). Whole numbers and a table, not the
 * double's own toString: that runs a shortest-digits conversion per request.
 */
function millis(ms: number): string {
  const us = Math.round(ms * 1000);
  return `${Math.floor(us / 1000)}${FRACTION[us % 1000]}`;
}

/** A JSON string literal; the escaping work only for the rare value that needs it. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function nullable(s: string | null): string {
  return s === null ? 'null' : str(s);
}

export function maskQuery(query: string): string {
  if (!SECRET_PARAM.test(query)) return query;
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq === -1) return pair;
    return SECRET_PARAM.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  }).join('&');
}
