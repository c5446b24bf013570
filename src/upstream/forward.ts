import { performance } from 'node:perf_hooks';
import type { RetryPlan } from '../compile/plan.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { Exchange } from '../worker/exchange.js';
import { ProxyHandler } from './proxy-handler.js';
import { isIdempotent } from '../http/idempotent.js';
import { buildUpstreamHead } from './request-head.js';
import { msAt, nowMs } from '../shared/clock.js';
import { ADMIT_PROBE, REJECT } from '../shared/upstream-table.js';
import { ALL_FULL, NONE_HEALTHY } from './upstream-runtime.js';
import type { FailureCondition } from './http1/upstream-try.js';
import { classifyUpstreamError, upstreamCause } from './upstream-error.js';

/**
 * The upstream leg of a request: admission (circuit breaker, max_requests), then tries, each to an
 * endpoint the balancer picks, retried when the route's retries: allow it and it is safe.
 *
 *   forward ─ admit ─▶ tryOnce ─ select ─ dispatch ─▶ ProxyHandler ─┬─ answer relayed
 *                         ▲                                         └─ failed ─ mayRetry ─ backoff ─┘
 */
export function forward(ex: Exchange): void {
  if (ex.aborted || ex.finished) return;
  // A retryable body is read whole first, so every try can send it again.
  if (ex.bodyParts !== null && !ex.requestComplete) {
    ex.onBodyComplete = forward;
    return;
  }
  const up = ex.route!.upstream!;
  const plan = up.plan;
  const t = performance.now();
  const now = msAt(t);
  // Set first: whatever this request takes below is given back in releaseUpstream.
  ex.upstream = up;
  ex.upstreamName = plan.name;
  up.table.countRequest(plan.slot, now);
  if (plan.breaker !== null) {
    const verdict = up.table.admit(plan.slot, now, plan.breaker);
    if (verdict === REJECT) return refuse(ex, 'SLUICE_ERR_CIRCUIT_OPEN');
    ex.probe = verdict === ADMIT_PROBE;
  }
  if (plan.maxRequests > 0) {
    if (!up.table.acquire(plan.slot, plan.maxRequests)) return refuse(ex, 'SLUICE_ERR_UPSTREAM_OVERLOADED');
    ex.holdsUpstreamPlace = true;
  }
  const timeout = ex.route!.plan.timeoutMs;
  if (timeout > 0) ex.deadline = setTimeout(onDeadline, timeout, ex);
  tryOnce(ex, t);
}

/** `t`: performance.now() as the try starts (forward's reading, when it calls). */
function tryOnce(ex: Exchange, t = performance.now()): void {
  ex.retryTimer = null;
  if (ex.aborted || ex.finished) return;
  const route = ex.route!;
  const up = ex.upstream!;
  const i = up.select(ex, ex.tried, msAt(t));
  if (i === NONE_HEALTHY || i === ALL_FULL) {
    // A retry with nowhere to go answers with the error of the try before it, if there was one.
    if (ex.errorCode !== null) return ex.fail(ex.errorCode);
    return refuse(ex, i === ALL_FULL ? 'SLUICE_ERR_UPSTREAM_OVERLOADED' : 'SLUICE_ERR_NO_HEALTHY_UPSTREAM');
  }
  const endpoint = up.plan.endpoints[i];
  ex.tried |= 1 << (i & 31);
  ex.attempts++;
  ex.endpoint = endpoint.origin;
  const head = buildUpstreamHead(ex, ex.path, endpoint, route.plan.preserveHost);
  const stages = route.onUpstreamRequest;
  if (stages !== null) for (const s of stages) s.onUpstreamRequest!(ex, head);
  const perTry = route.plan.retries.perTryTimeoutMs;
  const handler = new ProxyHandler(
    ex, i, up.pool(i)!, ex.method, ex.query === '' ? head.path : `${head.path}?${ex.query}`, head.headers,
    ex.bufferedBody ?? ex.body, ex.chunked, perTry > 0 ? perTry : 0, t,
  );
  ex.attempt = handler;
  handler.pool.dispatch(handler);
}

/** Circuit open, no endpoint, or full: the route's fallback answers if it has one, else the error. */
function refuse(ex: Exchange, code: ErrorCode): void {
  const f = ex.route!.plan.fallback;
  if (f === null) return ex.fail(code);
  ex.sendLocalReply({ status: f.status, code, headers: f.headers, body: f.body }, !ex.requestComplete);
}

/** What failed, in the words of retries.on: an error condition or an upstream status. */
type RetryCondition = Exclude<FailureCondition, null> | number;

/**
 * Whether this failed try may be tried again, taking a retry from the budget if so. Safe means:
 * tries left, the condition is listed, nothing of the response went to the client, the body can be
 * sent again, and either nothing reached the upstream (connect_error) or the method is idempotent.
 * Useful means: the circuit is not open and some endpoint is healthy.
 */
export function mayRetry(ex: Exchange, condition: RetryCondition): boolean {
  const r = ex.route!.plan.retries;
  if (ex.attempts >= r.attempts || ex.responseStarted || ex.aborted || ex.finished || !listed(r, condition)) return false;
  if (ex.body !== null) return false; // streamed, not kept: it cannot be sent twice
  if (condition !== 'connect_error' && !r.nonIdempotent && !isIdempotent(ex.method)) return false;
  const up = ex.upstream!;
  const now = nowMs();
  // This failure may just have opened the circuit or ejected the last endpoint: then the answer in
  // hand (or its error) is better than a 503 from a retry with nowhere to go.
  if (!up.retryPossible(now)) return false;
  return up.takeRetry(now);
}

function listed(r: RetryPlan, c: RetryCondition): boolean {
  if (c === 'connect_error') return r.connectError;
  if (c === 'reset') return r.reset;
  if (c === 'timeout') return r.timeout;
  return r.statuses.includes(c);
}

/** Try again after a fully jittered exponential backoff. */
export function retryLater(ex: Exchange): void {
  if (ex.aborted || ex.finished) return;
  const r = ex.route!.plan.retries;
  const cap = Math.min(r.backoffMaxMs, r.backoffBaseMs * 2 ** (ex.attempts - 1));
  const delay = Math.random() * cap;
  if (delay < 1) tryOnce(ex);
  else ex.retryTimer = setTimeout(tryOnce, delay, ex);
}

/** A try failed before any answer was relayed: retry if allowed, else answer with the error. */
export function tryFailed(ex: Exchange, err: Error): void {
  if (ex.aborted || ex.finished) return;
  const { code, condition } = classifyUpstreamError(err);
  ex.runtime.log.warn({
    request_id: ex.id, route: ex.routeName, upstream: ex.upstreamName, endpoint: ex.endpoint,
    code, cause: upstreamCause(err), attempt: ex.attempts,
  }, 'upstream error');
  ex.errorCode = code;
  if (condition !== null && mayRetry(ex, condition)) return retryLater(ex);
  ex.fail(code);
}

function onDeadline(ex: Exchange): void {
  ex.deadline = null;
  if (ex.aborted || ex.finished || ex.headWritten) return;
  ex.runtime.log.warn({ request_id: ex.id, route: ex.routeName, upstream: ex.upstreamName, endpoint: ex.endpoint, attempt: ex.attempts, code: 'SLUICE_ERR_ROUTE_TIMEOUT' }, 'route timeout');
  const attempt = ex.attempt;
  attempt?.timedOut(); // the try counts as a timeout for health and the breaker
  ex.attempt = null; // and its abort error is not this request's answer
  attempt?.abort(new Error('route timeout'));
  ex.fail('SLUICE_ERR_ROUTE_TIMEOUT');
}

/** The exchange is complete: give back what the request held (timers, max_requests place, probe). */
export function releaseUpstream(ex: Exchange): void {
  if (ex.deadline !== null) { clearTimeout(ex.deadline); ex.deadline = null; }
  if (ex.retryTimer !== null) { clearTimeout(ex.retryTimer); ex.retryTimer = null; }
  const up = ex.upstream!;
  if (ex.holdsUpstreamPlace) { ex.holdsUpstreamPlace = false; up.table.release(up.plan.slot); }
  if (ex.probe) { ex.probe = false; up.table.returnProbe(up.plan.slot); }
  // The gateway answered before the upstream did (413 mid-upload, a stage...): that try is of no use
  // now, and a streamed body it waits for will never end. A try whose answer is being relayed ends
  // by itself; either way, from here on it only settles its own counts.
  const attempt = ex.attempt;
  ex.attempt = null;
  if (attempt !== null && !ex.responseStarted) attempt.abort(new Error('answered by the gateway'));
}
