import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { AccessRecord } from '../observe/access-log.js';
import { errorReply } from '../pipeline/local-reply.js';
import type { LocalReply, RequestCtx, ResponseHead } from '../pipeline/phase.js';
import { releaseUpstream } from '../upstream/forward.js';
import type { ProxyHandler } from '../upstream/proxy-handler.js';
import type { DownstreamHead } from '../upstream/request-head.js';
import { NO_LINES, type HeadLines } from '../http/head-lines.js';
import type { ParsedHead } from '../upstream/http1/response-head.js';
import type { UpstreamRuntime } from '../upstream/upstream-runtime.js';
import { acceptHead, type AcceptedHead, type Refusal } from './accept.js';
import { downstreamHead, statusLine, type DownstreamHeadParts } from './downstream-head.js';
import { requestId } from './request-id.js';
import type { RouteRuntime, Runtime } from './runtime.js';

const NO_BODY = new ArrayBuffer(0);

/** Worker-wide counters the drain logic watches. */
export const inFlight = { count: 0, draining: false, onIdle: null as null | (() => void) };

/**
 * One request's life on this worker, from the uWS handler to the access-log line. It is the only
 * object that holds the uWS HttpResponse, and every downstream write goes through it (in cork,
 * never after abort or end). The pipeline (pipeline/runner.ts) decides; the exchange does I/O.
 *
 *   head ─ accept ─ route ─▶ first onData ─▶ runner: onRequest stages ─▶ upstream dispatch
 *                        └─ no body: the runner starts in the handler
 *        └─ refusal (400/413/431: answered at once, connection closed when framing is in doubt)
 */
export class Exchange implements RequestCtx, DownstreamHead, AcceptedHead, AccessRecord, DownstreamHeadParts {
  // ── request, copied out of uWS synchronously ──
  id = '';
  method = '';
  rawUrl = '';
  path = '';
  query = '';
  host = '';
  rawHeaders: string[] = [];
  contentLength = -1;
  chunked = false;
  remoteAddress = '';
  stageState: unknown[] | null = null;
  readonly startedAt = performance.now();
  route: RouteRuntime | null = null;
  routeName = '';
  params: readonly string[] = [];

  // ── progress ──
  /** The pipeline has been started (on the first onData, or in the handler for a bodiless request). */
  private started = false;
  aborted = false;
  /** The downstream response has been fully written (or the exchange abandoned). */
  finished = false;
  /** Response head sent downstream; after this a failure can only cut the connection. */
  headWritten = false;
  /**
   * The upstream's head, not yet written: it goes out in one cork with the first body bytes (one send,
   * not two). Until then a failure can still become a clean 502.
   */
  private headPending = false;
  /** The whole request body has been received from the client. */
  requestComplete = false;
  status = 0;
  errorCode: ErrorCode | null = null;
  bytesOut = 0;
  private bytesIn = 0;
  /** Local reply decided in the handler, sent when the pipeline would start. */
  private pending: LocalReply | null = null;

  // ── upstream leg (upstream/forward.ts) ──
  upstream: UpstreamRuntime | null = null;
  upstreamName: string | null = null;
  endpoint: string | null = null;
  /** Bitmask of endpoint indexes (mod 32) tried by this request. */
  tried = 0;
  attempts = 0;
  /** The try in progress; null once the exchange stops waiting for it. */
  attempt: ProxyHandler | null = null;
  /** This request is one of the half-open circuit's probes, its verdict not yet recorded. */
  probe = false;
  /** Holds one of the upstream's max_requests places. */
  holdsUpstreamPlace = false;
  deadline: NodeJS.Timeout | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  /** A streamed request body (cannot be sent twice). */
  body: RequestBody | null = null;
  /** A body small enough to keep for retries: its chunks while arriving, then the whole. */
  bodyParts: Buffer[] | null = null;
  bufferedBody: Buffer | null = null;
  /** Called once the kept body is complete (the upstream leg waits for it). */
  onBodyComplete: ((ex: Exchange) => void) | null = null;
  private downstreamPaused = false;

  // ── response body framing ──
  /** Known response length (tryEnd), or -1 for chunked writes. */
  private total = -1;
  private bodyless = false;
  private chunk: Buffer | null = null;
  private chunkBase = 0;
  private writeOk = true;
  private writableHooked = false;

  // uWS calls these later with no context argument, so each is a closure; all but onAborted are
  // made only when a request needs them (a body to read, a slow client, a head to flush on its own).
  private readonly onAborted = (): void => this.handleAborted();

  /**
   * cork() runs its callback synchronously, so the exchange being corked sits in one static slot and
   * the callbacks are shared functions instead of closures allocated per request.
   */
  private static corking: Exchange;
  private static readonly corkedWrite = (): void => Exchange.corking.writeCorked();
  private static readonly corkedEnd = (): void => Exchange.corking.endCorked();
  private static readonly corkedHead = (): void => Exchange.corking.writeHead();
  private static readonly corkedReply = (): void => Exchange.corking.replyCorked();
  private cork(fn: () => void): void {
    Exchange.corking = this;
    this.res.cork(fn);
  }

  constructor(readonly res: HttpResponse, readonly runtime: Runtime, private readonly start: (ex: Exchange) => void) {
    inFlight.count++;
  }

  /** Called inside the uWS handler: copy the head, validate, route. Never awaits. */
  accept(req: HttpRequest): void {
    const res = this.res;
    res.onAborted(this.onAborted);
    const plan = this.runtime.plan;
    const refusal = acceptHead(req, plan.limits.maxHeaderBytes, this);
    this.remoteAddress = clientAddress(res);
    const given = this.header('x-request-id');
    this.id = given !== undefined && isPrintableId(given) ? given : requestId();
    if (refusal !== null) return this.refuse(refusal);
    if (this.contentLength > plan.limits.maxBodyBytes) {
      return this.refuse({ code: 'SLUICE_ERR_BODY_TOO_LARGE', detail: '', framing: true });
    }
    if (this.chunked && !plan.limits.allowChunkedRequests) {
      return this.refuse({ code: 'SLUICE_ERR_LENGTH_REQUIRED', detail: '', framing: true });
    }
    const match = this.runtime.router.find(this);
    if (match === null) {
      this.pending = errorReply('SLUICE_ERR_ROUTE_NOT_FOUND', this.id);
    } else {
      this.route = match.route;
      this.routeName = match.route.plan.name;
      this.params = match.params;
    }
    // A bodiless request gets no onData from uWS worth waiting for (one empty call): acceptHead has
    // already checked what uWS checks after the handler (the Content-Length digits), so that call is
    // made here, now.
    if (this.contentLength <= 0 && !this.chunked) return this.handleData(NO_BODY, true);
    res.onData((ab, isLast) => this.handleData(ab, isLast));
  }

  // ── what the access log reads (AccessRecord) ──
  get logPath(): string { return this.path || this.rawUrl; }
  get logRoute(): string | null { return this.route === null ? null : this.routeName; }
  get durationMs(): number { return performance.now() - this.startedAt; }

  header(lowerName: string): string | undefined {
    const h = this.rawHeaders;
    for (let i = 0; i < h.length; i += 2) if (h[i] === lowerName) return h[i + 1];
    return undefined;
  }

  /**
   * A refused head gets a JSON error. When the framing is in doubt the answer is deferred a turn and
   * closes the connection: uWS keeps dispatching requests it already parsed from the same bytes
   * (a smuggled one after a CL.CL body), but closes the connection itself when a pipelined request
   * arrives while a response is pending, so the smuggled request never reaches a handler.
   */
  private refuse(r: Refusal): void {
    const reply = errorReply(r.code, this.id, r.detail || undefined);
    if (!r.framing) return this.sendLocalReply(reply);
    setImmediate(() => this.sendLocalReply(reply, true));
  }

  // ── request body ──────────────────────────────────────────────────────────────────────────

  private handleData(ab: ArrayBuffer, isLast: boolean): void {
    if (this.finished) return;
    const first = !this.started;
    if (first) {
      this.started = true;
      if (this.pending !== null) {
        // Close the connection when the client is still sending a body we will not read.
        this.sendLocalReply(this.pending, !isLast);
        return;
      }
      if (this.keepsBody()) this.bodyParts = [];
      else if (this.contentLength > 0 || this.chunked) this.body = new RequestBody(this);
    }
    if (this.body !== null) this.pushBody(ab, isLast);
    else if (this.bodyParts !== null) this.keepBody(ab, isLast);
    if (isLast) this.requestComplete = true;
    if (first && !this.finished) this.start(this);
    else if (isLast && this.onBodyComplete !== null) this.onBodyComplete(this);
  }

  /** Bodies up to retries.buffer_bytes are kept whole when a retry could need them again. */
  private keepsBody(): boolean {
    const r = this.route!.plan.retries;
    return this.route!.upstream !== null && !this.chunked && this.contentLength > 0 && this.contentLength <= r.bufferBytes && r.attempts > 1;
  }

  private keepBody(ab: ArrayBuffer, isLast: boolean): void {
    // uWS reuses `ab` after this callback returns: copy it.
    if (ab.byteLength > 0) this.bodyParts!.push(Buffer.from(new Uint8Array(ab)));
    if (isLast) this.bufferedBody = this.bodyParts!.length === 1 ? this.bodyParts![0] : Buffer.concat(this.bodyParts!);
  }

  private pushBody(ab: ArrayBuffer, isLast: boolean): void {
    const body = this.body!;
    if (body.destroyed) return;
    if (ab.byteLength > 0) {
      this.bytesIn += ab.byteLength;
      if (this.chunked && this.bytesIn > this.runtime.plan.limits.maxBodyBytes) {
        body.destroy();
        this.fail('SLUICE_ERR_BODY_TOO_LARGE');
        return;
      }
      // uWS reuses `ab` after this callback returns: copy it.
      if (!body.push(Buffer.from(new Uint8Array(ab))) && !isLast) {
        this.downstreamPaused = true;
        this.res.pause();
      }
    }
    if (isLast) body.push(null);
  }

  /** The upstream wants more body: let uWS read from the client again. */
  resumeDownstream(): void {
    if (this.downstreamPaused && !this.aborted && !this.finished) {
      this.downstreamPaused = false;
      this.res.resume();
    }
  }

  // ── upstream response → downstream ────────────────────────────────────────────────────────

  /** Something of a response is committed: its head is written or about to be. */
  get responseStarted(): boolean {
    return this.headWritten || this.headPending;
  }

  /**
   * Take the upstream's head (the client's, reused for its next answer: only its lines are kept, and
   * their bytes are never reused, so they can wait for the flush) and choose the body framing.
   */
  writeResponseHead(head: ParsedHead, more: boolean): void {
    if (this.aborted || this.finished) return;
    let status = head.status;
    const lines = head.lines;
    const length = head.contentLength;
    this.connectionNamed = head.connectionNamed;
    const stages = this.route!.onResponse;
    if (stages !== null) {
      const edit: ResponseHead = { status, upstream: lines, set: [] };
      for (const s of stages) s.onResponse!(this, edit);
      status = edit.status;
      if (edit.set.length > 0) this.stageHeaders = edit.set;
    }
    this.status = status;
    this.bodyless = this.method === 'HEAD' || status === 204 || status === 304;
    this.upstreamLength = length;
    this.total = this.bodyless ? -1 : length;
    this.upstreamLines = lines;
    this.headPending = true;
    // Written with the first body bytes (one send for a small response). When the client says they
    // are not surely coming from this read, no later than this tick, so a slow stream's head goes now.
    if (!more) queueMicrotask(() => this.flushPendingHead());
  }
  upstreamLines: HeadLines = NO_LINES;
  /** The upstream's Content-Length (a HEAD answer repeats it), or -1. */
  private upstreamLength = -1;
  /** Lower-case names the upstream's Connection header lists: not forwarded. */
  connectionNamed: string[] | null = null;
  /** Set by onResponse stages, replacing upstream headers of the same name: [lower-case name, value, ...]. */
  stageHeaders: string[] | null = null;

  private flushPendingHead(): void {
    if (this.headPending && !this.aborted && !this.finished) this.cork(Exchange.corkedHead);
  }

  /** Inside cork. */
  private writeHead(): void {
    this.headPending = false;
    this.headWritten = true;
    this.res.writeStatus(downstreamHead(this));
  }

  /** Returns false when the client is slow: the caller pauses the upstream until onWritable. */
  writeChunk(chunk: Buffer): boolean {
    if (this.aborted || this.finished || this.bodyless) return true;
    this.chunk = chunk;
    this.cork(Exchange.corkedWrite);
    return this.writeOk;
  }

  private writeCorked(): void {
    if (this.headPending) this.writeHead();
    const chunk = this.chunk!;
    const res = this.res;
    this.bytesOut += chunk.length;
    if (this.total >= 0) {
      this.chunkBase = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.total);
      if (done) { this.chunk = null; this.writeOk = true; this.complete(); return; }
      this.writeOk = ok;
      if (ok) this.chunk = null;
    } else {
      this.chunk = null;
      this.writeOk = res.write(chunk);
    }
    if (!this.writeOk) this.hookWritable();
  }

  private hookWritable(): void {
    if (this.writableHooked) return;
    this.writableHooked = true;
    this.res.onWritable((offset) => this.handleWritable(offset));
  }

  private handleWritable(offset: number): boolean {
    if (this.aborted || this.finished) return true;
    if (this.chunk !== null) {
      const [ok, done] = this.res.tryEnd(this.chunk.subarray(offset - this.chunkBase), this.total);
      if (done) { this.chunk = null; this.complete(); return true; }
      if (!ok) return false;
      this.chunk = null;
    }
    this.writeOk = true;
    this.attempt?.resume();
    return true;
  }

  /** The upstream response ended: finish the downstream one. */
  endResponse(): void {
    if (this.aborted || this.finished) return;
    this.cork(Exchange.corkedEnd);
  }

  private endCorked(): void {
    if (this.headPending) this.writeHead();
    const close = inFlight.draining;
    if (this.bodyless) {
      if (this.method === 'HEAD' && this.upstreamLength >= 0) this.res.endWithoutBody(this.upstreamLength, close);
      else this.res.endWithoutBody(undefined, close);
    } else if (this.total > 0) {
      // A known-length body that tryEnd has not finished means the upstream sent too little.
      if (this.chunk === null && this.bytesOut < this.total) { this.res.close(); this.errorCode = 'SLUICE_ERR_UPSTREAM_PROTOCOL'; }
      else if (this.chunk !== null) return; // tryEnd will complete from onWritable
    } else {
      this.res.end(undefined, close);
    }
    this.complete();
  }

  // ── local replies and failures ────────────────────────────────────────────────────────────

  /** Answer from the gateway itself. `close` ends the connection after the answer. */
  sendLocalReply(reply: LocalReply, close = false): void {
    if (this.aborted || this.finished) return;
    if (this.headWritten) { this.cut(reply.code); return; }
    this.status = reply.status;
    this.errorCode = reply.code;
    this.reply = reply;
    this.closeAfterReply = close || inFlight.draining;
    this.cork(Exchange.corkedReply);
    this.body?.destroy();
    this.complete();
  }
  private reply: LocalReply | null = null;
  private closeAfterReply = false;

  private replyCorked(): void {
    const r = this.reply!;
    const res = this.res;
    res.writeStatus(statusLine(r.status));
    if (r.headers) for (const [k, v] of r.headers) res.writeHeader(k, v);
    if (this.id !== '') res.writeHeader('x-request-id', this.id);
    const body = r.body ?? '';
    this.bytesOut = Buffer.byteLength(body);
    res.end(body, this.closeAfterReply);
  }

  /** A gateway error: a JSON error answer if nothing was written yet, else cut the connection. */
  fail(code: ErrorCode, detail?: string): void {
    if (this.aborted || this.finished) return;
    if (this.headWritten) { this.cut(code); return; }
    // The connection stays usable only if the client's request body was fully read.
    this.sendLocalReply(errorReply(code, this.id, detail), !this.requestComplete);
  }

  /** The response started and cannot be completed: close the connection so the client sees truncation. */
  private cut(code: ErrorCode | null): void {
    this.errorCode = code;
    this.res.close();
    this.complete();
  }

  private handleAborted(): void {
    if (this.finished) return;
    this.aborted = true;
    if (this.status === 0 || !this.headWritten) this.status = 499;
    this.attempt?.abort(new Error('client aborted'));
    this.body?.destroy();
    this.complete();
  }

  /** Exactly once per exchange: run onLog stages, write the access log, release the slot. */
  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.body?.destroy();
    if (this.upstream !== null) releaseUpstream(this);
    const route = this.route;
    if (route !== null && route.onLog !== null) {
      for (const s of route.onLog) { try { s.onLog!(this, this.status); } catch { /* must not throw */ } }
    }
    const rt = this.runtime;
    rt.access.write(this, rt.accessInfo, rt.accessWarn, rt.plan.log.sample);
    // Deferred: complete() may run inside res.cork(), and closing the app there would drop the corked bytes.
    if (--inFlight.count === 0 && inFlight.onIdle !== null) setImmediate(inFlight.onIdle);
  }
}

/** A client-sent X-Request-Id is kept only if it is 1-128 visible ASCII characters (it is echoed back). */
function isPrintableId(id: string): boolean {
  if (id.length === 0 || id.length > 128) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * The peer's address as text. uWS gives IPv4 peers as IPv4-mapped IPv6 bytes; formatting those
 * four bytes here is several times cheaper than getRemoteAddressAsText() plus a decode.
 */
function clientAddress(res: HttpResponse): string {
  const raw = new Uint8Array(res.getRemoteAddress());
  if (raw.length === 4) return ipv4(raw, 0);
  if (raw.length === 16 && raw[10] === 0xff && raw[11] === 0xff && isZero(raw, 10)) return ipv4(raw, 12);
  return Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
}

/** Requests come in runs from the same peers (keep-alive): the last address's text is kept. */
let lastIpv4 = -1;
let lastIpv4Text = '';
function ipv4(b: Uint8Array, at: number): string {
  const n = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  if (n !== lastIpv4) {
    lastIpv4 = n;
    lastIpv4Text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  }
  return lastIpv4Text;
}

function isZero(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The request body as a stream for the upstream client. Backpressure both ways: when its buffer is
 * full the exchange pauses the client socket; the client's next read resumes it.
 */
export class RequestBody extends Readable {
  constructor(private readonly ex: Exchange) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.ex.resumeDownstream();
  }
}
