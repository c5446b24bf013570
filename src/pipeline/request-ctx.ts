/**
 * What stages and the upstream leg can see of a request. Everything was copied out of the front door
 * (uWS's HttpRequest dies when its handler returns) before any phase runs.
 */
export interface RequestCtx {
  readonly id: string;
  readonly method: string;
  /** Normalised path (see router/normalize-path.ts). */
  readonly path: string;
  /** Raw query string without "?" ("" when none). */
  readonly query: string;
  /**
   * The query as the access log writes it, set by a stage that read a credential from it (an API key
   * parameter, masked); null: the query as received, with the generic secret names masked.
   */
  logQuery: string | null;
  /** Lower-case Host header value, port included when sent. */
  readonly host: string;
  /**
   * 'https' when the request came in over a TLS listener, or a peer in trusted_proxies says so
   * (worker/forwarded-proto.ts): the route predicate `scheme` and the X-Forwarded-Proto sent upstream.
   */
  readonly scheme: 'http' | 'https';
  /** The address of the TCP peer that sent the request. */
  readonly peerAddress: string;
  /**
   * The client's address as sluice decides it: what `ip:`, rate-limit `key: ip`, `hash_on: ip` and the
   * access log use. The peer's, unless the peer is in trusted_proxies (worker/client-address.ts).
   */
  readonly clientAddress: string;
  /** The X-Forwarded-For sent upstream: the checked chain from the client to the peer. */
  readonly forwardedFor: string;
  /** The peer is in trusted_proxies: its forwarding headers were believed and are passed on. */
  readonly peerTrusted: boolean;
  /** Who the caller is, set by the stage that verified it (a JWT, an API key); null until then. */
  principal: Principal | null;
  /** The request's W3C trace context, continued or started by the front door for every request (worker/trace-context.ts). */
  trace: TraceContext | null;
  readonly routeName: string;
  /** Values of the route pattern's :params, in pattern order. */
  readonly params: readonly string[];
  /** Flat [name, value, name, value, ...], lower-case names, as received. */
  readonly rawHeaders: readonly string[];
  /** Content-Length of the request, or -1 when it has none. */
  readonly contentLength: number;
  /** The request body came with Transfer-Encoding: chunked. */
  readonly chunked: boolean;
  header(lowerName: string): string | undefined;
  /** Where the stages' per-request state lives: read and write it only through a RequestState. */
  stageState: unknown[] | null;
}

/** An authenticated caller. */
export interface Principal {
  /** What proved it: a verified JWT or an API key (rate-limit keys jwt:* and api_key read this). */
  readonly via: 'jwt' | 'api_key';
  /** Who: a JWT's `sub`, an API key's id. */
  readonly subject: string;
  /** What it proved itself with: a JWT's `kid`, an API key's id; null when there is none. */
  readonly keyId: string | null;
  /** Verified claims (a JWT's payload); empty for an API key. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** A W3C Trace Context (traceparent, tracestate) as this hop sees it. */
export interface TraceContext {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** This hop's span, 16 lower-case hex digits. */
  readonly spanId: string;
  /** The caller's span, or null when this hop started the trace. */
  readonly parentSpanId: string | null;
  readonly sampled: boolean;
  /** The tracestate header as received, cut to whole members within the spec's bounds ("" when none). */
  readonly traceState: string;
}

/**
 * One stage's typed place in every request, made by StageEnv.state<T>(): a stage keeps what it
 * learnt in onRequest (what it took, what it decided) for its later phases of the same request.
 */
export class RequestState<T> {
  constructor(private readonly index: number) {}

  get(ctx: RequestCtx): T | undefined {
    const all = ctx.stageState;
    return all === null ? undefined : (all[this.index] as T | undefined);
  }

  set(ctx: RequestCtx, value: T): void {
    (ctx.stageState ??= [])[this.index] = value;
  }
}
