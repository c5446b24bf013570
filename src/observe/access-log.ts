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

/** Where the lines go: the worker's pino destination (a sonic-boom), shared with its other logs. */
export interface LineSink {
  write(line: string): unknown;
}

/** Lines are handed to the sink in batches of about this many characters... */
const BATCH_CHARS = 8192;
/** ...and at least this often, so a quiet gateway's lines are not held back. */
const FLUSH_MS = 1000;

/**
 * One JSON line per request, in the same shape as pino's lines, but built by hand and batched: this
 * runs for every request, and pino plus one sonic-boom write per line cost ~15 µs of a tiny proxied
 * GET's ~70 µs (perf/README.md). Lines are at level info; 5xx and 499 (client went away) are at warn
 * so they survive `log.level: warn`, and are never sampled away.
 */
export class AccessLog {
  private readonly base: string;
  private lastMs = 0;
  private lastTime = '';
  private batch = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly sink: LineSink, bindings: Record<string, string | number>) {
    this.base = Object.entries(bindings).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('');
    this.timer = setInterval(() => this.flush(), FLUSH_MS).unref();
  }

  /** Hand buffered lines to the sink (also before the thread ends). */
  flush(): void {
    if (this.batch === '') return;
    const lines = this.batch;
    this.batch = '';
    this.sink.write(lines);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  write(r: AccessRecord, info: boolean, warn: boolean, sample: number): void {
    const notable = r.status >= 500 || r.status === 499;
    if (notable ? !warn : !info || (sample < 1 && Math.random() >= sample)) return;
    let line = `{"level":"${notable ? 'warn' : 'info'}","time":"${this.isoNow()}"${this.base},"type":"access","request_id":${str(r.id)}` +
      `,"method":${str(r.method)},"path":${str(r.logPath)}`;
    if (r.query !== '') line += `,"query":${str(maskQuery(r.query))}`;
    line += `,"route":${nullable(r.logRoute)},"upstream":${nullable(r.upstreamName)},"endpoint":${nullable(r.endpoint)}` +
      `,"status":${r.status},"bytes":${r.bytesOut},"duration_ms":${Math.round(r.durationMs * 1000) / 1000},"remote":${str(r.remoteAddress)}`;
    if (r.errorCode !== null) line += `,"code":"${r.errorCode}"`;
    if (r.attempts > 1) line += `,"attempts":${r.attempts}`;
    this.batch += line + '}\n';
    if (this.batch.length >= BATCH_CHARS) this.flush();
  }

  /** new Date().toISOString() once per millisecond, not once per request. */
  private isoNow(): string {
    const now = Date.now();
    if (now !== this.lastMs) { this.lastMs = now; this.lastTime = new Date(now).toISOString(); }
    return this.lastTime;
  }
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
