import type { RoutePlan } from '../compile/plan.js';
import type { Forwarder, LegHandle, LegRequest } from '../pipeline/downstream.js';
import { UpstreamLeg } from './upstream-leg.js';
import type { UpstreamRuntime } from './upstream-runtime.js';

/** A route's way to its upstream for one config generation: the route's retry, timeout and fallback settings beside the upstream's runtime. */
export class RouteUpstream implements Forwarder {
  constructor(
    private readonly upstream: UpstreamRuntime,
    private readonly route: RoutePlan,
  ) {}

  /** Bodies up to retries.buffer_bytes are kept whole when a retry could need them again. */
  keepsBody(contentLength: number, chunked: boolean): boolean {
    const r = this.route.retries;
    return !chunked && contentLength > 0 && contentLength <= r.bufferBytes && r.attempts > 1;
  }

  createLeg(req: LegRequest): LegHandle {
    return new UpstreamLeg(req, this.upstream, this.route);
  }
}
