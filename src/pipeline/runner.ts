import type { ErrorCode } from '../errors/catalog.js';
import { buildUpstreamHead } from '../upstream/request-head.js';
import { ProxyHandler } from '../upstream/proxy-handler.js';
import { classifyUpstreamError } from '../upstream/upstream-error.js';
import type { Exchange } from '../worker/exchange.js';
import type { LocalReply, Stage } from './phase.js';

/**
 * Runs a routed request through its phases: onRequest stages (each may answer), then the upstream
 * leg. Starts on the exchange's first onData, i.e. after uWS has checked the request framing.
 */
export function runPipeline(ex: Exchange): void {
  const stages = ex.route!.onRequest;
  if (stages === null) proxyUpstream(ex);
  else runRequestStages(ex, stages, 0);
}

function runRequestStages(ex: Exchange, stages: readonly Stage[], from: number): void {
  for (let i = from; i < stages.length; i++) {
    let verdict: LocalReply | null | Promise<LocalReply | null>;
    try {
      verdict = stages[i].onRequest!(ex);
    } catch (err) {
      return failInternal(ex, stages[i], err);
    }
    if (verdict === null) continue;
    if (isThenable(verdict)) {
      verdict.then(
        (v) => (v === null ? runRequestStages(ex, stages, i + 1) : ex.sendLocalReply(v, !ex.requestComplete)),
        (err) => failInternal(ex, stages[i], err),
      );
      return;
    }
    return ex.sendLocalReply(verdict, !ex.requestComplete);
  }
  proxyUpstream(ex);
}

function isThenable(v: unknown): v is Promise<LocalReply | null> {
  return typeof (v as { then?: unknown }).then === 'function';
}

function failInternal(ex: Exchange, stage: Stage, err: unknown): void {
  ex.runtime.log.error({ err, request_id: ex.id, stage: stage.name }, 'stage failed');
  ex.fail('SLUICE_ERR_INTERNAL');
}

/** Pick an endpoint and dispatch; on a connect failure of a bodiless request, try the next one. */
function proxyUpstream(ex: Exchange): void {
  if (ex.aborted || ex.finished) return;
  const route = ex.route!;
  const upstream = route.upstream!;
  const i = upstream.balancer.pick(performance.now(), ex.tried);
  if (i === -1) return ex.fail(ex.attempts === 0 ? 'SLUICE_ERR_NO_HEALTHY_UPSTREAM' : ex.errorCode ?? 'SLUICE_ERR_UPSTREAM_CONNECT');
  const endpoint = upstream.plan.endpoints[i];
  ex.tried |= 1 << i;
  ex.attempts++;
  ex.upstreamName = upstream.plan.name;
  ex.endpoint = endpoint.origin;
  ex.endpointIndex = i;
  const head = buildUpstreamHead(ex, ex.path, endpoint, route.plan.preserveHost);
  const stages = route.onUpstreamRequest;
  if (stages !== null) for (const s of stages) s.onUpstreamRequest!(ex, head);
  upstream.pools[i].dispatch(
    {
      path: ex.query === '' ? head.path : `${head.path}?${ex.query}`,
      method: ex.method,
      headers: head.headers,
      body: ex.body,
    },
    new ProxyHandler(ex, onUpstreamError),
  );
}

function onUpstreamError(ex: Exchange, err: Error): void {
  ex.controller = null;
  if (ex.aborted || ex.finished) return;
  const { code, connectFailure } = classifyUpstreamError(err);
  const upstream = ex.route!.upstream!;
  if (connectFailure) upstream.balancer.markDown(ex.endpointIndex, performance.now());
  logUpstreamError(ex, code, err);
  // Nothing reached the upstream and there is no body to replay: another endpoint may answer.
  if (connectFailure && ex.body === null && !ex.headWritten) {
    ex.errorCode = code;
    return proxyUpstream(ex);
  }
  ex.fail(code);
}

function logUpstreamError(ex: Exchange, code: ErrorCode, err: Error): void {
  ex.runtime.log.warn({
    request_id: ex.id, route: ex.routeName, upstream: ex.upstreamName, endpoint: ex.endpoint,
    code, cause: (err as { code?: string }).code ?? err.message, attempt: ex.attempts,
  }, 'upstream error');
}
