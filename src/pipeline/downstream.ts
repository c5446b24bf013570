import type { ErrorCode } from '../errors/catalog.js';
import type { LocalReply, ResponseHead, UpstreamRequestHead } from './phase.js';
import type { RequestBody } from './request-body.js';
import type { RequestCtx } from './request-ctx.js';

/**
 * The response side of one request, as whatever produces the response sees it (the upstream leg, a
 * stage that answers by itself). Two things implement it:
 *
 *   upstream leg ──▶ Exchange (pipeline/exchange.ts: the response phases) ──▶ front door (worker/uws-downstream.ts)
 *
 * The exchange runs onResponse and the response body phase on the way through; the front door writes
 * to the client's connection. A producer never needs to know which of the two it holds.
 */
export interface Downstream {
  /** Something of the response is committed (its head is written or about to be): a failure from here on can only cut the connection. */
  readonly responseStarted: boolean;
  /** Nothing more will be written: the response ended or failed, or the client went away. */
  readonly closed: boolean;
  /** `more`: body bytes follow before the caller returns, so head and body can leave in one write. */
  writeHead(head: ResponseHead, more: boolean): void;
  /** False when the client is slow: the producer waits for its resume() before writing more. */
  writeChunk(chunk: Buffer): boolean;
  end(): void;
  /** An answer made by the gateway. After the response started, the connection is cut instead. */
  reply(r: LocalReply): void;
  /** A gateway error: a JSON error answer if nothing was written yet, else the connection is cut. */
  fail(code: ErrorCode, detail?: string): void;
}

/** What the front door adds for the exchange: how the answer went, and the client's side of the body. */
export interface FrontDoor extends Downstream {
  readonly status: number;
  readonly errorCode: ErrorCode | null;
  readonly bytesWritten: number;
  /** Request body bytes received from the client. */
  readonly bytesIn: number;
  /** The request body has room again: read from the client. */
  resumeReading(): void;
}

/**
 * The request as the upstream leg sees it: what to send (the head, the body, the route's last edit of
 * each try's head) and where the answer goes. The leg reaches nothing else of the request.
 */
export interface LegRequest extends Downstream {
  readonly ctx: RequestCtx;
  /** Null for a request without a body. A kept body is complete by the time the leg starts. */
  readonly body: RequestBody | null;
  /** Runs the route's onUpstreamRequest phase on one try's head. */
  onUpstreamRequest(head: UpstreamRequestHead): void;
  /** Told of each try when this request's spans are exported; null otherwise (one null check per try). */
  readonly trySpans: TrySpans | null;
}

/** The client span of each upstream try, for a request whose spans are exported (worker/request-spans.ts). */
export interface TrySpans {
  /** A try starts (attempt 1 is the first): its span id goes upstream as the traceparent's parent. */
  tryStarted(endpoint: string, attempt: number): TrySpan;
  /** The try settled: `status` 0 when no answer came, `code` the error it failed with. */
  tryEnded(span: TrySpan, status: number, code: ErrorCode | null): void;
}

export interface TrySpan {
  readonly spanId: string;
}

/** What the exchange holds of the upstream leg working for it. */
export interface LegHandle {
  readonly upstreamName: string;
  /** The endpoint of the latest try, or null before the first. */
  readonly endpoint: string | null;
  /** Tries so far, the first included. */
  readonly tries: number;
  /** The error of the latest failed try, until an answer arrives: what the request was waiting out. */
  readonly lastError: ErrorCode | null;
  /** Admission, then the first try. Separate from creating the leg so the exchange holds it before anything can end the exchange. */
  start(): void;
  /** The client drained: read the upstream's answer again. */
  resume(): void;
  /**
   * The exchange is over (answered, failed, or the client went away): give back what the request
   * held, and stop the try in flight unless it is relaying its answer and the client is still there.
   * Called exactly once.
   */
  release(clientGone: boolean): void;
}

/** A route's way upstream, built per config generation by the worker (upstream/route-upstream.ts). */
export interface Forwarder {
  /** Whether a body of this framing is kept whole, so a retry can send it again, rather than streamed. */
  keepsBody(contentLength: number, chunked: boolean): boolean;
  /** The upstream leg for one request, not started yet; it answers through `req`. */
  createLeg(req: LegRequest): LegHandle;
}
