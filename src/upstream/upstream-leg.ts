import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { RetryPlan, RoutePlan } from '../compile/plan.js';
import type { ErrorCode } from '../errors/catalog.js';
import { isIdempotent } from '../http/idempotent.js';
import type { LegHandle, LegRequest, TrySpan } from '../pipeline/downstream.js';
import type { ResponseHead } from '../pipeline/phase.js';
import { msAt, nowMs } from '../shared/clock.js';
import { ADMIT_PROBE, REJECT } from '../shared/upstream-table.js';
import type { Http1Pool } from './http1/pool.js';
import type { ParsedHead } from './http1/response-head.js';
import type { FailureCondition, UpstreamTry } from './http1/upstream-try.js';
import { buildUpstreamHead } from './request-head.js';
import { classifyUpstreamError, upstreamCause } from './upstream-error.js';
import { ALL_FULL, NONE_HEALTHY, type UpstreamRuntime } from './upstream-runtime.js';

/**
 * The upstream leg of one request: admission (circuit breaker, max_requests), then tries, each to an
 * endpoint the balancer picks, retried when the route's retries: allow it and it is safe. It owns all
 * of that state and reaches the request only through LegRequest (pipeline/downstream.ts).
 *
 *   start ─ admit ─▶ tryOnce ─ select ─ dispatch ─▶ LegTry ─┬─ answer relayed to the request
 *                      ▲                                    └─ failed ─ mayRetry ─ backoff ─┘
 */
export class UpstreamLeg implements LegHandle {
  endpoint: string | null = null;
  tries = 0;
  /** Bitmask of endpoint indexes (mod 32) tried by this request. */
  private tried = 0;
  /** The try in progress; null once the leg stops waiting for it. */
  current: LegTry | null = null;
  /** This request is one of the half-open circuit's probes, its verdict not yet recorded. */
  probe = false;
  /** Holds one of the upstream's max_requests places. */
  private holdsPlace = false;
  /** The error of the latest failed try: a retry with nowhere to go answers with it, and the access log names it. */
  lastError: ErrorCode | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /**
   * The exchange is over (answered, failed, or its client went away). The exchange releases the leg
   * in the same step as it closes, so this alone says whether the request still wants anything.
   */
  private released = false;

  constructor(
    readonly req: LegRequest,
    readonly up: UpstreamRuntime,
    private readonly route: RoutePlan,
  ) {}

  get upstreamName(): string {
    return this.up.plan.name;
  }

  start(): void {
    if (this.released) return;
    const up = this.up;
    const plan = up.plan;
    const t = performance.now();
    const now = msAt(t);
    up.table.countRequest(plan.row, now);
    if (plan.breaker !== null) {
      const verdict = up.table.admit(plan.row, now, plan.breaker);
      if (verdict === REJECT) return this.refuse('SLUICE_ERR_CIRCUIT_OPEN');
      this.probe = verdict === ADMIT_PROBE;
    }
    if (plan.maxRequests > 0) {
      if (!up.table.acquire(plan.row, plan.maxRequests)) return this.refuse('SLUICE_ERR_UPSTREAM_OVERLOADED');
      this.holdsPlace = true;
    }
    const timeout = this.route.timeoutMs;
    if (timeout > 0) this.deadline = setTimeout(onDeadline, timeout, this);
    this.tryOnce(t);
  }

  /** `startedAt`: performance.now() as the try starts (start's reading, when it calls). */
  tryOnce(startedAt = performance.now()): void {
    this.retryTimer = null;
    if (this.released) return;
    const req = this.req;
    const up = this.up;
    // After a connect timeout only an endpoint not tried yet is worth a try (see tryFailed).
    const i = up.select(req.ctx, this.tried, msAt(startedAt), this.lastError === 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT');
    if (i === NONE_HEALTHY || i === ALL_FULL) {
      if (this.lastError !== null) return req.fail(this.lastError);
      return this.refuse(i === ALL_FULL ? 'SLUICE_ERR_UPSTREAM_OVERLOADED' : 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
    }
    const endpoint = up.plan.endpoints[i];
    this.tried |= 1 << (i & 31);
    this.tries++;
    this.endpoint = endpoint.origin;
    const ctx = req.ctx;
    const spans = req.trySpans;
    const span = spans === null ? null : spans.tryStarted(endpoint.origin, this.tries);
    const parentSpanId = span !== null ? span.spanId : ctx.trace === null ? '' : ctx.trace.spanId;
    const head = buildUpstreamHead(ctx, ctx.path, endpoint, this.route.preserveHost, parentSpanId);
    req.onUpstreamRequest(head);
    const perTry = this.route.retries.perTryTimeoutMs;
    const body = req.body;
    const t = new LegTry(
      this,
      i,
      up.pool(i)!,
      ctx.method,
      head.query === '' ? head.path : `${head.path}?${head.query}`,
      head.headers,
      body === null ? null : (body.kept ?? body.stream),
      body !== null && body.chunked,
      perTry > 0 ? perTry : 0,
      startedAt,
      span,
    );
    this.current = t;
    t.pool.dispatch(t);
  }

  /** Circuit open, no endpoint, or full: the route's fallback answers if it has one, else the error. */
  private refuse(code: ErrorCode): void {
    const f = this.route.fallback;
    if (f === null) return this.req.fail(code);
    this.req.reply({ status: f.status, code, headers: f.headers, body: f.body });
  }

  /**
   * Whether this failed try may be tried again, taking a retry from the budget if so. Safe means:
   * tries left, the condition is listed, nothing of the response went to the client, the body can be
   * sent again, and either nothing reached the upstream (connect_error) or the method is idempotent.
   * Useful means: the circuit is not open and some endpoint is healthy.
   */
  mayRetry(condition: RetryCondition): boolean {
    const r = this.route.retries;
    const req = this.req;
    if (this.tries >= r.attempts || req.responseStarted || this.released || !listed(r, condition)) return false;
    if (req.body !== null && req.body.stream !== null) return false; // streamed, not kept: it cannot be sent twice
    if (condition !== 'connect_error' && !r.nonIdempotent && !isIdempotent(req.ctx.method)) return false;
    const now = nowMs();
    // This failure may just have opened the circuit or ejected the last endpoint: then the answer in
    // hand (or its error) is better than a 503 from a retry with nowhere to go.
    if (!this.up.retryPossible(now)) return false;
    return this.up.takeRetry(now);
  }

  /** Try again after a fully jittered exponential backoff. */
  retryLater(): void {
    if (this.released) return;
    const r = this.route.retries;
    const cap = Math.min(r.backoffMaxMs, r.backoffBaseMs * 2 ** (this.tries - 1));
    const delay = Math.random() * cap;
    if (delay < 1) this.tryOnce();
    else this.retryTimer = setTimeout(retryNow, delay, this);
  }

  /** A try failed before any answer was relayed: retry if allowed, else answer with the error. */
  tryFailed(err: Error): void {
    if (this.released) return;
    const { code, condition } = classifyUpstreamError(err);
    this.logTry('upstream error', code, upstreamCause(err));
    this.lastError = code;
    if (condition !== null && this.retryUseful(code) && this.mayRetry(condition)) return this.retryLater();
    this.req.fail(code);
  }

  /**
   * A connect timeout is retried only on an endpoint this request has not tried: an endpoint that
   * dropped the SYN is likely to drop the next one too, and each such try would wait connect_ms again
   * (3 tries made a client wait 3 × connect_ms for one unreachable endpoint).
   */
  private retryUseful(code: ErrorCode): boolean {
    return code !== 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT' || this.up.anyUntried(this.tried, nowMs());
  }

  /** An answer arrived: an earlier try's error is not the request's any more. */
  answered(): void {
    this.lastError = null;
  }

  private logTry(msg: string, code: ErrorCode, cause: string | null): void {
    this.up.log.warn(
      {
        request_id: this.req.ctx.id,
        route: this.req.ctx.routeName,
        upstream: this.upstreamName,
        endpoint: this.endpoint,
        code,
        ...(cause === null ? {} : { cause }),
        attempt: this.tries,
      },
      msg,
    );
  }

  timedOut(): void {
    this.deadline = null;
    if (this.released || this.req.responseStarted) return;
    this.logTry('route timeout', 'SLUICE_ERR_ROUTE_TIMEOUT', null);
    const t = this.current;
    t?.timedOut(); // the try counts as a timeout for health and the breaker
    this.current = null; // and its abort error is not this request's answer
    t?.abort(new Error('route timeout'));
    this.req.fail('SLUICE_ERR_ROUTE_TIMEOUT');
  }

  resume(): void {
    this.current?.resume();
  }

  release(clientGone: boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.deadline !== null) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const up = this.up;
    if (this.holdsPlace) {
      this.holdsPlace = false;
      up.table.release(up.plan.row);
    }
    if (this.probe) {
      this.probe = false;
      up.table.returnProbe(up.plan.row);
    }
    // The gateway answered before the upstream did (413 mid-upload, a stage, a timeout...) or the
    // client went away: that try is of no use now, and a streamed body it waits for will never end.
    // A try whose answer is being relayed ends by itself; either way, from here on it only settles
    // its own counts.
    const t = this.current;
    this.current = null;
    if (t === null || t.ended) return;
    if (clientGone || !this.req.responseStarted) t.abort(new Error(clientGone ? 'client aborted' : 'answered by the gateway'));
    // Paused for a slow client, it would wait for a resume() that no longer comes: it reads on by itself.
    else t.resume();
  }
}

function onDeadline(leg: UpstreamLeg): void {
  leg.timedOut();
}

function retryNow(leg: UpstreamLeg): void {
  leg.tryOnce();
}

/** What failed, in the words of retries.on: an error condition or an upstream status. */
type RetryCondition = Exclude<FailureCondition, null> | number;

function listed(r: RetryPlan, c: RetryCondition): boolean {
  if (c === 'connect_error') return r.connectError;
  if (c === 'reset') return r.reset;
  if (c === 'timeout') return r.timeout;
  return r.statuses.includes(c);
}

/**
 * One try of a request to one endpoint: what the HTTP/1.1 upstream client sends (UpstreamTry) and the
 * leg's handle on it (abort, resume). Relays the client's callbacks to the request with backpressure
 * (a false from writeChunk pauses the upstream until the client drains), and reports the try's
 * outcome once to the upstream (health, breaker, latency). A 5xx listed in retries.on is read to its
 * end and not relayed when a retry is allowed; a try the leg no longer waits for only settles its counts.
 */
class LegTry implements UpstreamTry {
  link: unknown = null;
  resent = false;
  private outcomeReported = false;
  /** The head arrived with a status below 500: the body's end or break decides passive health. */
  private headOk = false;
  /** This response is a retryable error being read to its end, then retried. */
  private discarding = false;
  /** Settled: its answer ended or failed, its in-flight place given back. */
  ended = false;
  /** The answer's status (0 until one came) and the error the try failed with: what its span tells. */
  private status = 0;
  private errorCode: ErrorCode | null = null;

  constructor(
    private readonly leg: UpstreamLeg,
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
    /** Its client span when the request's spans are exported, else null. */
    private readonly span: TrySpan | null,
  ) {}

  private get current(): boolean {
    // release() clears current: a try the request no longer waits for is never the current one.
    return this.leg.current === this;
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
    this.status = status;
    this.headOk = status < 500;
    this.report(!this.headOk);
    if (!this.current) return;
    const leg = this.leg;
    leg.answered();
    if (status >= 500 && leg.mayRetry(status)) {
      this.discarding = true;
      return;
    }
    leg.req.writeHead(responseHead(head), more);
  }

  /** false pauses the upstream until resume(). */
  onData(chunk: Buffer): boolean {
    if (this.discarding || !this.current) return true;
    return this.leg.req.writeChunk(chunk);
  }

  onComplete(): void {
    if (this.headOk) this.leg.up.passiveSuccess(this.index);
    this.settle();
    if (!this.current) return;
    if (this.discarding) this.leg.retryLater();
    else this.leg.req.end();
  }

  onError(err: Error): void {
    if (this.span !== null) this.errorCode ??= classifyUpstreamError(err).code;
    const wasCurrent = this.current;
    if (wasCurrent && !this.outcomeReported) this.report(true);
    // The head was fine, the body broke: passive health still hears of it.
    else if (wasCurrent && this.headOk) this.leg.up.passiveFailure(this.index, nowMs());
    this.settle();
    if (!wasCurrent) return;
    if (this.discarding) return this.leg.retryLater();
    this.leg.tryFailed(err);
  }

  /**
   * Sent again on a new connection by the upstream client: not a retry (no attempt, no retry budget,
   * no health verdict), since the upstream cannot have processed it; logged and counted instead.
   */
  onResend(why: 'stale' | 'behind'): void {
    const leg = this.leg;
    leg.up.countResend(this.index);
    leg.up.log.info(
      { request_id: leg.req.ctx.id, route: leg.req.ctx.routeName, upstream: leg.upstreamName, endpoint: leg.endpoint, attempt: leg.tries, why },
      why === 'stale'
        ? 'upstream connection was closed as the request went out; sent again on a new connection'
        : 'pipelined request sent again on a new connection',
    );
  }

  /** The route's timeout_ms ended the wait for this try. */
  timedOut(): void {
    this.errorCode = 'SLUICE_ERR_ROUTE_TIMEOUT';
    this.report(true);
  }

  private report(failed: boolean): void {
    if (this.outcomeReported) return;
    this.outcomeReported = true;
    const leg = this.leg;
    leg.up.tryOutcome(this.index, failed, leg.probe, this.startedAt);
    leg.probe = false;
  }

  /** Exactly once per try: its in-flight place is given back. */
  private settle(): void {
    if (this.ended) return;
    this.ended = true;
    this.leg.up.tryEnded(this.index);
    if (this.span !== null) this.leg.req.trySpans!.tryEnded(this.span, this.status, this.errorCode);
  }
}

/** The upstream's head as it goes downstream. `head` is the connection's, reused for its next answer: only its lines are kept. */
function responseHead(head: ParsedHead): ResponseHead {
  return { status: head.status, upstream: head.lines, connectionNamed: head.connectionNamed, length: head.contentLength, set: null, remove: null };
}
