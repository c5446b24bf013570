import type { Readable } from 'node:stream';
import type { ErrorCode } from '../../errors/catalog.js';
import type { ParsedHead } from './response-head.js';

/**
 * One request sent to one endpoint, as the upstream client sees it: what to send and where the
 * answer goes. The upstream leg's per-try object (LegTry in upstream/upstream-leg.ts) implements it, so a try is
 * one object: the upstream client allocates nothing of its own per request.
 *
 * Callbacks, in order: onHeaders once (1xx heads are read past), onData for each body piece (false =
 * pause until Pool.resume), then exactly one of onComplete or onError. onError also follows an abort.
 */
export interface UpstreamTry {
  readonly method: string;
  /** Path and query, as sent in the request line. */
  readonly path: string;
  /** Flat [name, value, ...]: lower-case names, values already checked for CR, LF and NUL. */
  readonly headers: readonly string[];
  /**
   * null: no body. Content-Length, when the body has one, is among `headers` (the client's own,
   * checked by the listener); a stream without it is sent chunked.
   */
  readonly body: Buffer | Readable | null;
  readonly chunkedBody: boolean;
  /** Longest wait for the response head after the request was sent, or 0 for the pool's default. */
  readonly headersTimeoutMs: number;
  /** Where the upstream client has this try (queued, or on a connection); only it touches this. */
  link: unknown;
  /** Sent again once already, after a reused connection turned out closed (the upstream client's too). */
  resent: boolean;
  /**
   * `more`: another callback of this answer follows before this one's caller returns (body bytes came
   * in the same read, or the answer has no body): a relay can wait for it and write head and body at once.
   * `head` is the connection's, reused for its next answer: read it during the call; only `head.lines`
   * (offsets into the bytes as received) may be kept.
   */
  onHeaders(head: ParsedHead, more: boolean): void;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
  /**
   * It is about to be sent again on a new connection, without an answer having come (not a retry: the
   * upstream cannot have processed it): `stale` when the reused connection it went out on turned out
   * closed by the upstream, `behind` when it was pipelined behind a try that failed or was aborted.
   */
  onResend(why: 'stale' | 'behind'): void;
}

/** How a failed try is retried (retries.on), or null when it never is. */
export type FailureCondition = 'connect_error' | 'reset' | 'timeout' | null;

/**
 * A failed try in the gateway's words: the error code a client sees and the retries.on condition it
 * meets. System errors (ECONNREFUSED...) arrive as themselves and are mapped in upstream-error.ts.
 */
export class UpstreamTryError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly condition: FailureCondition,
    /** A short cause for the log line, e.g. "no response headers within 15000 ms". */
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const headersTimeout = (ms: number) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_TIMEOUT', 'timeout', `no response headers within ${ms} ms`);
export const bodyTimeout = (ms: number) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_TIMEOUT', 'timeout', `response body idle for ${ms} ms`);
export const connectTimeout = (ms: number) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', 'connect_error', `no connection within ${ms} ms`);
export const uploadTimeout = (ms: number) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_TIMEOUT', 'timeout', `request body stalled for ${ms} ms`);
export const connectFailed = (err: Error) =>
  new UpstreamTryError('SLUICE_ERR_UPSTREAM_CONNECT', 'connect_error', (err as NodeJS.ErrnoException).code ?? err.message);
export const protocolError = (why: string) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_PROTOCOL', null, why);
export const closedEarly = (why: string) => new UpstreamTryError('SLUICE_ERR_UPSTREAM_RESET', 'reset', why);
