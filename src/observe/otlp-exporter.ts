import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { OncePerSecond } from './once-per-second.js';
import { otlpJson } from './otlp-json.js';
import type { Span } from './span.js';
import type { Counter } from './worker-metrics.js';

/** Spans held at most while waiting for export; more are dropped (counted). */
export const QUEUE_SPANS = 4096;
/** Spans per POST. */
export const BATCH_SPANS = 512;
/** A partial batch waits at most this long. */
export const FLUSH_MS = 1000;
/** On drain, how long the last spans may take to leave. */
export const CLOSE_WAIT_MS = 2000;

export interface OtlpTarget {
  readonly url: string;
  /** Flat [name, value, ...]. */
  readonly headers: readonly string[];
  readonly timeoutMs: number;
}

/**
 * One worker's span exporter: a bounded queue, sent as OTLP/HTTP JSON in batches (full, or every
 * FLUSH_MS), one POST at a time, over its own undici Agent. add() is all a request pays: a push, or a
 * count when the queue is full. A failing or hanging collector costs dropped spans and at most one
 * log line a second, never a request.
 */
export class OtlpExporter {
  get exported(): number {
    return this.counts.exported.value;
  }

  get dropped(): number {
    return this.counts.dropped.value;
  }

  private queue: Span[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private readonly failures = new OncePerSecond();
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly target: OtlpTarget,
    private readonly serviceName: string,
    private readonly log: Logger,
    /**
     * sluice_tracing_spans_exported_total (spans the collector accepted, 2xx) and _dropped_total (the
     * queue was full, or their POST failed or timed out): the worker's, so a new exporter after a
     * reload counts on.
     */
    private readonly counts: { readonly exported: Counter; readonly dropped: Counter } = { exported: { value: 0 }, dropped: { value: 0 } },
  ) {
    this.agent = new Agent({ connections: 2, headersTimeout: target.timeoutMs, bodyTimeout: target.timeoutMs, connectTimeout: target.timeoutMs });
    const h: Record<string, string> = { 'content-type': 'application/json' };
    for (let i = 0; i < target.headers.length; i += 2) h[target.headers[i]] = target.headers[i + 1];
    this.headers = h;
  }

  add(span: Span): void {
    if (this.closed || this.queue.length >= QUEUE_SPANS) {
      this.counts.dropped.value++;
      return;
    }
    this.queue.push(span);
    if (this.sending !== null) return;
    if (this.queue.length >= BATCH_SPANS) this.sendNext();
    else if (this.timer === null) this.timer = setTimeout(flushDue, FLUSH_MS, this).unref();
  }

  /** Send a batch now unless one is on its way; the next follows when it is done. */
  sendNext(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sending !== null || this.queue.length === 0) return;
    const batch = this.queue.splice(0, BATCH_SPANS);
    this.sending = this.post(batch).finally(() => {
      this.sending = null;
      if (this.closed) return;
      if (this.queue.length >= BATCH_SPANS) this.sendNext();
      else if (this.queue.length > 0 && this.timer === null) this.timer = setTimeout(flushDue, FLUSH_MS, this).unref();
    });
  }

  private async post(batch: Span[]): Promise<void> {
    try {
      const body = otlpJson(batch, this.serviceName);
      const res = await request(this.target.url, { method: 'POST', headers: this.headers, body, dispatcher: this.agent });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.counts.exported.value += batch.length;
        return;
      }
      this.failed(batch.length, `collector answered ${res.statusCode}`);
    } catch (err) {
      this.failed(batch.length, (err as Error).message);
    }
  }

  private failed(spans: number, why: string): void {
    this.counts.dropped.value += spans;
    const n = this.failures.hit();
    // The URL only: headers may hold the collector's credentials.
    if (n > 0) this.log.warn({ url: this.target.url, cause: why, failed_exports: n, spans_dropped: this.counts.dropped.value }, 'span export failed');
  }

  /** The worker drains: send what is queued, waiting at most CLOSE_WAIT_MS, then close the connections. */
  async close(): Promise<void> {
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (Date.now() < deadline && (this.queue.length > 0 || this.sending !== null)) {
      if (this.sending === null) this.sendNext();
      const left = deadline - Date.now();
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.sending, new Promise((r) => (t = setTimeout(r, left)))]);
      clearTimeout(t);
    }
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.counts.dropped.value += this.queue.length;
    this.queue = [];
    await this.agent.destroy().catch(() => {});
  }
}

function flushDue(e: OtlpExporter): void {
  e.sendNext();
}
