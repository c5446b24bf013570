import type { EndpointPlan } from '../compile/plan.js';
import { connectionTokens, isHopByHop } from '../http/hop-by-hop.js';
import type { UpstreamRequestHead } from '../pipeline/phase.js';
import type { TraceContext } from '../pipeline/request-ctx.js';

/** Everything the head builder reads from the downstream request. */
export interface DownstreamHead {
  readonly id: string;
  readonly host: string;
  readonly scheme: 'http' | 'https';
  /** The X-Forwarded-For to send: the checked chain from the client to the peer (worker/client-address.ts). */
  readonly forwardedFor: string;
  /** Client-sent X-Real-IP, Forwarded and the like pass only from a peer in trusted_proxies. */
  readonly peerTrusted: boolean;
  /** Raw query string without "?". */
  readonly query: string;
  /** Flat [name, value, ...], lower-case names, as copied from uWS. */
  readonly rawHeaders: readonly string[];
  header(lowerName: string): string | undefined;
  /** This hop's trace context: sent on as traceparent and tracestate (null: the client's pass as they came). */
  readonly trace: TraceContext | null;
}

const VIA = '1.1 sluice';

/**
 * Build the head forwarded upstream: hop-by-hop headers dropped, X-Forwarded-* and Via set (the
 * client's X-Forwarded-For replaced by the checked chain; X-Real-IP, Forwarded and other client or
 * URL claims dropped unless the peer is trusted),
 * X-Request-Id set to this exchange's id, Host preserved or replaced by the endpoint's, traceparent
 * naming `parentSpanId` (this hop's span, or the try's own when spans are exported) as the caller.
 * Baggage passes untouched, as any end-to-end header.
 */
export function buildUpstreamHead(
  down: DownstreamHead,
  path: string,
  endpoint: EndpointPlan,
  preserveHost: boolean,
  parentSpanId: string,
): UpstreamRequestHead {
  const trace = down.trace;
  const named = connectionTokens(down.header('connection'));
  const src = down.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i];
    if (isHopByHop(name) || (named !== null && named.includes(name))) continue;
    switch (name) {
      case 'host':
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
      case 'x-request-id':
      case 'via':
        continue;
      case 'x-forwarded-for':
        continue;
      case 'traceparent':
      case 'tracestate':
        if (trace !== null) continue;
        break;
      // What a proxy in front says about the client or the original URL; a client could write any of it.
      case 'x-real-ip':
      case 'forwarded':
      case 'x-forwarded-port':
      case 'x-forwarded-prefix':
      case 'x-client-ip':
      case 'true-client-ip':
      case 'cf-connecting-ip':
        if (!down.peerTrusted) continue;
        break;
    }
    headers.push(name, src[i + 1]);
  }
  const via = down.header('via');
  headers.push(
    'host',
    preserveHost ? (down.header('host') ?? down.host) : endpoint.hostHeader,
    'x-forwarded-for',
    down.forwardedFor,
    'x-forwarded-proto',
    down.scheme,
    'x-forwarded-host',
    down.host,
    'x-request-id',
    down.id,
    'via',
    via === undefined ? VIA : `${via}, ${VIA}`,
  );
  if (trace !== null) {
    headers.push('traceparent', `00-${trace.traceId}-${parentSpanId}-${trace.sampled ? '01' : '00'}`);
    if (trace.traceState !== '') headers.push('tracestate', trace.traceState);
  }
  return { path, query: down.query, headers };
}
