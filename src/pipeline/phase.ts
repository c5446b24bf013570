import type { ErrorCode } from '../errors/catalog.js';
import { dropFields } from '../http/fields.js';
import type { HeadLines } from '../http/head-lines.js';
import type { BodySink, BodyTransform } from './body-chain.js';
import type { RequestCtx } from './request-ctx.js';

/**
 * The per-request phase contract. A feature is a Stage: it plugs into these phases and never edits
 * the proxy core. Phases, in the order a request meets them (docs/architecture.md has the chart):
 *
 *   accept (front door: copy + check the head) → route → [onRequestBody* as the body arrives]
 *   → onRequest* → upstream leg, per try: onUpstreamRequest* → dispatch → onResponse*
 *   → onResponseBody* (as the body streams) → onLog* (exactly once)
 *
 * The runner (pipeline/exchange.ts) owns iteration: a stage returns a value, it never calls next().
 */

/** A response made by the gateway itself (not the upstream). */
export interface LocalReply {
  readonly status: number;
  /** Stable error code, or null for a non-error answer (a fixed `respond:` route). */
  readonly code: ErrorCode | null;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Uint8Array;
}

/** The request head about to be sent upstream; onUpstreamRequest stages may edit it. */
export interface UpstreamRequestHead {
  path: string;
  /** The raw query, without "?" ("" when none): the request's, unless a stage edits it. */
  query: string;
  /** Flat [name, value, name, value, ...] with lower-case names; values free of CR, LF and NUL. */
  readonly headers: string[];
}

/** A response head on its way downstream; onResponse stages may edit it. */
export interface ResponseHead {
  status: number;
  /** The upstream's header lines as received (NO_LINES for a head the gateway made). */
  readonly upstream: HeadLines;
  /** Lower-case names the upstream's Connection header lists: not forwarded. */
  readonly connectionNamed: readonly string[] | null;
  /**
   * The body's length, or -1 when unknown (then it is sent chunked). A HEAD answer keeps the
   * upstream's length (it describes the GET); a body phase that changes the length sets -1.
   */
  length: number;
  /**
   * Headers to write downstream, replacing upstream headers of the same name: lower-case name,
   * value, ... (add them with setHeader). Values must be free of CR/LF: uWS writes them as they are.
   */
  set: string[] | null;
  /** Lower-case names of upstream headers not to forward (add them with removeHeader). */
  remove: string[] | null;
}

/** Set a downstream header, replacing the upstream's of that name and one an earlier stage set. */
export function setHeader(head: ResponseHead, lowerName: string, value: string): void {
  const set = (head.set ??= []);
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] === lowerName) {
      set[i + 1] = value;
      return;
    }
  }
  set.push(lowerName, value);
}

/**
 * Drop a header: the upstream's of that name, and one an earlier stage set. Only headers that would
 * pass can be dropped: framing, hop-by-hop, Date, Via and X-Request-Id are sluice's to write.
 */
export function removeHeader(head: ResponseHead, lowerName: string): void {
  (head.remove ??= []).push(lowerName);
  if (head.set !== null) dropFields(head.set, lowerName);
}

/** How an exchange ended, for onLog stages (and the access log). */
export interface Outcome {
  /** The status the client got: 499 when it went away first. */
  readonly status: number;
  /** The error code the client got, or why its response was cut; null on success. */
  readonly errorCode: ErrorCode | null;
  readonly bytesOut: number;
  readonly durationMs: number;
  /** Upstream tries, the first included; 0 when no upstream was asked. */
  readonly tries: number;
}

export interface Stage {
  /** Used in logs and metrics. */
  readonly name: string;
  /** Route matched, head known. Return a LocalReply to answer now, null to continue. */
  onRequest?(ctx: RequestCtx): LocalReply | null | Promise<LocalReply | null>;
  /**
   * A later stage's onRequest answered (auth's 401, rate_limit's 429): this stage, whose onRequest
   * let the request pass, may return the reply with headers added (cors: the allow headers, so a
   * browser can read the 401). Synchronous; only for stages that also have onRequest.
   */
  onLocalReply?(ctx: RequestCtx, reply: LocalReply): LocalReply;
  /** Last edit of what goes upstream, once per try. Synchronous. */
  onUpstreamRequest?(ctx: RequestCtx, head: UpstreamRequestHead): void;
  /** The upstream's response head, before it is written downstream. Synchronous. */
  onResponse?(ctx: RequestCtx, head: ResponseHead): void;
  /**
   * The request has a body: return a transform to see or change it as it arrives (body-chain.ts), or
   * null to let it pass. Made before onRequest runs (the first bytes may come with the head). A
   * transformed body is streamed upstream chunked, never kept for retries.
   */
  onRequestBody?(ctx: RequestCtx, sink: BodySink): BodyTransform | null;
  /**
   * The response head passed onResponse and a body follows (not for HEAD, 204 or 304): return a
   * transform for the body, or null. One that changes the length sets head.length = -1 (the body is
   * then sent chunked) and may set headers (Content-Encoding, Vary).
   */
  onResponseBody?(ctx: RequestCtx, head: ResponseHead, sink: BodySink): BodyTransform | null;
  /** After the exchange, exactly once, success or failure. Must not throw. */
  onLog?(ctx: RequestCtx, outcome: Outcome): void;
}
