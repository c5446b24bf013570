import { forward } from '../upstream/forward.js';
import type { Exchange } from '../worker/exchange.js';
import type { LocalReply, Stage } from './phase.js';

/**
 * Runs a routed request through its phases: onRequest stages (each may answer), then the upstream
 * leg. Starts once the request framing is known good: in the uWS handler for a bodiless request,
 * else on the exchange's first onData (after uWS has checked the body framing).
 */
export function runPipeline(ex: Exchange): void {
  const stages = ex.route!.onRequest;
  if (stages === null) forward(ex);
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
  forward(ex);
}

function isThenable(v: unknown): v is Promise<LocalReply | null> {
  return typeof (v as { then?: unknown }).then === 'function';
}

function failInternal(ex: Exchange, stage: Stage, err: unknown): void {
  ex.runtime.log.error({ err, request_id: ex.id, stage: stage.name }, 'stage failed');
  ex.fail('SLUICE_ERR_INTERNAL');
}
