import type { Readable } from 'node:stream';
import type { Exchange } from '../worker/exchange.js';
import { mayRetry, retryLater, tryFailed } from './forward.js';
import type { Http1Pool } from './http1/pool.js';
import type { ParsedHead } from './http1/response-head.js';
import type { UpstreamTry } from './http1/upstream-try.js';
import { nowMs } from '../shared/clock.js';

/**
 * One try of a request to one endpoint: what the HTTP/1.1 client sends (UpstreamTry) and the
 * exchange's handle on it (abort, resume). Translates the client's callbacks into exchange writes,
 * with backpressure (a false from writeChunk pauses the upstream until the client drains), and
 * reports the try's outcome once to the upstream (health, breaker, latency). A 5xx listed in
 * retries.on is swallowed, not relayed, when a retry is allowed; a try the exchange no longer waits
 * for (it answered already, or moved on) only settles its counts.
 */
export class ProxyHandler implements UpstreamTry {
  link: unknown = null;
  resent = false;
  private outcomeReported = false;
  /** The head arrived with a status below 500: the body's end or break decides passive health. */
  private headOk = false;
  /** This response is a retryable error being read to its end, then retried. */
  private discarding = false;
  private ended = false;

  constructor(
    private readonly ex: Exchange,
    private readonly index: number,
    readonly pool: Http1Pool,
    readonly method: string,
    readonly path: string,
    readonly headers: readonly string[],
    readonly body: Buffer | Readable | null,
    readonly chunkedBody: boolean,
    readonly headersTimeoutMs: number,
    /** performance.now() as the try started: its latency is measured from here. */
    private readonly startedAt: number,
  ) {}

  private get current(): boolean {
    return this.ex.attempt === this && !this.ex.aborted && !this.ex.finished;
  }

  /** Stop this try (client gone, route timeout): its connection is closed. */
  abort(err: Error): void {
    if (!this.ended) this.pool.abort(this, err);
  }

  /** The client drained: read the upstream again. */
  resume(): void {
    this.pool.resume(this);
  }

  onHeaders(head: ParsedHead, more: boolean): void {
    const status = head.status;
    this.headOk = status < 500;
    this.report(!this.headOk);
    if (!this.current) return;
    // An earlier try's error is not this answer's.
    this.ex.errorCode = null;
    if (status >= 500 && mayRetry(this.ex, status)) {
      this.discarding = true;
      return;
    }
    this.ex.writeResponseHead(head, more);
  }

  /** false pauses the upstream until resume(). */
  onData(chunk: Buffer): boolean {
    if (this.discarding || !this.current) return true;
    return this.ex.writeChunk(chunk);
  }

  onComplete(): void {
    if (this.headOk) this.ex.upstream!.passiveSuccess(this.index);
    this.settle();
    if (!this.current) return;
    if (this.discarding) retryLater(this.ex);
    else this.ex.endResponse();
  }

  onError(err: Error): void {
    const wasCurrent = this.current;
    if (wasCurrent && !this.outcomeReported) this.report(true);
    // The head was fine, the body broke: passive health still hears of it.
    else if (wasCurrent && this.headOk) this.ex.upstream!.passiveFailure(this.index, nowMs());
    this.settle();
    if (!wasCurrent) return;
    if (this.discarding) return retryLater(this.ex);
    tryFailed(this.ex, err);
  }

  /** The route's timeout_ms ended the wait for this try. */
  timedOut(): void {
    this.report(true);
  }

  private report(failed: boolean): void {
    if (this.outcomeReported) return;
    this.outcomeReported = true;
    const ex = this.ex;
    ex.upstream!.tryOutcome(this.index, failed, ex.probe, this.startedAt);
    ex.probe = false;
  }

  /** Exactly once per try: its in-flight place is given back. */
  private settle(): void {
    if (this.ended) return;
    this.ended = true;
    this.ex.upstream!.tryEnded(this.index);
  }
}
