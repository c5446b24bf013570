import type { Dispatcher } from 'undici';
import type { Exchange } from '../worker/exchange.js';
import { mayRetry, retryLater, tryFailed } from './forward.js';
import { nowMs } from './shared-clock.js';

/**
 * undici's view of one try. Translates its callbacks into exchange writes, with backpressure (a
 * false from writeChunk pauses the upstream until the client drains), and reports the try's outcome
 * once to the upstream (health, breaker, latency). A 5xx listed in retries.on is swallowed, not
 * relayed, when a retry is allowed; a try the exchange no longer waits for (it answered already, or
 * moved on) only settles its counts.
 */
export class ProxyHandler implements Dispatcher.DispatchHandler {
  private readonly startedAt = performance.now();
  private outcomeReported = false;
  /** The head arrived with a status below 500: the body's end or break decides passive health. */
  private headOk = false;
  /** This response is a retryable error being read to its end, then retried. */
  private discarding = false;
  private ended = false;

  constructor(private readonly ex: Exchange, private readonly index: number) {}

  private get current(): boolean {
    return this.ex.attempt === this && !this.ex.aborted && !this.ex.finished;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (!this.current) controller.abort(new Error('client aborted'));
    else this.ex.controller = controller;
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // 1xx informational: not relayed
    this.headOk = status < 500;
    this.report(!this.headOk);
    if (!this.current) return;
    // An earlier try's error is not this answer's.
    this.ex.errorCode = null;
    if (status >= 500 && mayRetry(this.ex, status)) {
      this.discarding = true;
      return;
    }
    this.ex.writeResponseHead(status, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discarding || !this.current) return;
    if (!this.ex.writeChunk(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.headOk) this.ex.upstream!.passiveSuccess(this.index, nowMs());
    this.settle();
    if (!this.current) return;
    this.ex.controller = null;
    if (this.discarding) retryLater(this.ex);
    else this.ex.endResponse();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    const wasCurrent = this.current;
    if (wasCurrent && !this.outcomeReported) this.report(true);
    // The head was fine, the body broke: passive health still hears of it.
    else if (wasCurrent && this.headOk) this.ex.upstream!.passiveFailure(this.index, nowMs());
    this.settle();
    if (!wasCurrent) return;
    this.ex.controller = null;
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
    ex.upstream!.tryOutcome(this.index, failed, ex.probe, performance.now() - this.startedAt, nowMs());
    ex.probe = false;
  }

  /** Exactly once per try: its in-flight place is given back. */
  private settle(): void {
    if (this.ended) return;
    this.ended = true;
    this.ex.upstream!.tryEnded(this.index);
  }
}
