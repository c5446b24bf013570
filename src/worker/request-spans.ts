import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../errors/catalog.js';
import type { OtlpExporter } from '../observe/otlp-exporter.js';
import { CLIENT, SERVER } from '../observe/span.js';
import { newSpanId } from '../observe/trace-ids.js';
import type { TrySpan, TrySpans } from '../pipeline/downstream.js';
import type { Exchange } from '../pipeline/exchange.js';

/** A try's client span while it is open. */
interface OpenTry extends TrySpan {
  readonly startMs: number;
  readonly endpoint: string;
  readonly attempt: number;
}

/**
 * The spans of one exported request (sampled, with an exporter): the server span (this hop, its id
 * the trace context's span id) and a client span per upstream try, its child. Made only for such a
 * request; every other request has none and pays one null check per try.
 */
export class RequestSpans implements TrySpans {
  constructor(
    private readonly ex: Exchange,
    private readonly exporter: OtlpExporter,
  ) {}

  tryStarted(endpoint: string, attempt: number): TrySpan {
    const span: OpenTry = { spanId: newSpanId(), startMs: epochMs(), endpoint, attempt };
    return span;
  }

  tryEnded(span: TrySpan, status: number, code: ErrorCode | null): void {
    const t = span as OpenTry;
    const ex = this.ex;
    const trace = ex.trace!;
    const upstream = ex.upstreamName ?? '';
    const [address, port] = hostPort(t.endpoint);
    const attributes: (string | number)[] = [
      'http.request.method',
      ex.method,
      'server.address',
      address,
      'server.port',
      port,
      'sluice.upstream',
      upstream,
      'sluice.endpoint',
      t.endpoint,
      'http.request.resend_count',
      t.attempt - 1,
    ];
    if (status !== 0) attributes.push('http.response.status_code', status);
    if (code !== null) attributes.push('error.type', code);
    this.exporter.add({
      traceId: trace.traceId,
      spanId: t.spanId,
      parentSpanId: trace.spanId,
      name: `${ex.method} ${upstream}`,
      kind: CLIENT,
      startMs: t.startMs,
      endMs: epochMs(),
      attributes,
      error: status === 0 || status >= 500 || code !== null,
    });
  }

  /** The request is over (answered, failed, or the client went away): its server span. */
  finish(): void {
    const ex = this.ex;
    const trace = ex.trace!;
    const route = ex.routeName;
    const status = ex.status;
    const code = ex.errorCode;
    const attributes: (string | number)[] = [
      'http.request.method',
      ex.method,
      'url.scheme',
      ex.scheme,
      'url.path',
      ex.logPath,
      'http.route',
      route,
      'http.response.status_code',
      status,
      'client.address',
      ex.clientAddress,
      'sluice.request_id',
      ex.id,
    ];
    const upstream = ex.upstreamName;
    if (upstream !== null) attributes.push('sluice.upstream', upstream, 'sluice.tries', ex.tries);
    if (code !== null) attributes.push('error.type', code);
    this.exporter.add({
      traceId: trace.traceId,
      spanId: trace.spanId,
      parentSpanId: trace.parentSpanId,
      name: route === '' ? ex.method : `${ex.method} ${route}`,
      kind: SERVER,
      startMs: performance.timeOrigin + ex.startedAt,
      endMs: epochMs(),
      attributes,
      error: status >= 500,
    });
  }
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** "http://host:port" → [host, port]; an IPv6 host loses its brackets. */
function hostPort(origin: string): [string, number] {
  const colon = origin.lastIndexOf(':');
  let host = origin.slice(origin.indexOf('//') + 2, colon);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return [host, Number(origin.slice(colon + 1))];
}
