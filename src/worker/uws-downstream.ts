import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../errors/catalog.js';
import { isBodyless } from '../http/bodyless.js';
import type { FrontDoor } from '../pipeline/downstream.js';
import { Exchange } from '../pipeline/exchange.js';
import { errorReply } from '../pipeline/local-reply.js';
import type { LocalReply, ResponseHead } from '../pipeline/phase.js';
import type { IpRule } from '../stages/ip/compile.js';
import { ipAllowed } from '../stages/ip/stage.js';
import { acceptHead, type Refusal } from './accept.js';
import { type BodyReader, bodyDeadlines } from './body-deadlines.js';
import { decideClient } from './client-address.js';
import { downstreamHead, statusLine } from './downstream-head.js';
import { takeForwardedProto } from './forwarded-proto.js';
import { peerAddress } from './peer-address.js';
import { requestId } from './request-id.js';
import { RequestSpans } from './request-spans.js';
import type { Runtime } from './runtime.js';
import { readTraceContext } from './trace-context.js';

const NO_BODY = new ArrayBuffer(0);
const EMPTY = Buffer.alloc(0);
/**
 * The most of an early answer (one that came before the whole request body) held back so that it can
 * end with `Connection: close` and the connection close after it: uWS can only do both in end(body, true)
 * before any write. Error answers (413, 401...) fit; a larger one is streamed with the header instead.
 */
const EARLY_HOLD_BYTES = 64 * 1024;
/**
 * ...and for at most this long: an upstream that streams its answer while it still reads the request
 * (duplex) is held back only this much, then streamed with `Connection: close` in its head.
 */
const EARLY_HOLD_MS = 100;

/** Worker-wide counters the drain logic watches. */
export const inFlight = { count: 0, draining: false, onIdle: null as null | (() => void) };

/**
 * The front door of one request on a uWS listener: the only object that holds the uWS HttpResponse.
 * It copies the request head into the exchange (pipeline/exchange.ts), feeds it the body, and writes
 * whatever the exchange sends downstream (in cork, never after abort or end). The exchange decides;
 * this does the I/O.
 *
 *   head ─ accept ─ route ─▶ first onData ─▶ exchange.start()
 *                        └─ no body: started in the handler
 *        └─ refusal (400/411/413/431: answered, the connection closed; a bad path keeps it)
 *   body still arriving after timeouts.client_body_ms ─▶ 408 and close (worker/body-deadlines.ts)
 */
export class UwsDownstream implements FrontDoor, BodyReader {
  readonly ex: Exchange;

  // ── progress ──
  /** The exchange has been started (on the first onData, or in the handler for a bodiless request). */
  private started = false;
  private aborted = false;
  /** The response has been fully written (or abandoned). */
  private finished = false;
  /** Response head sent; after this a failure can only cut the connection. */
  private headWritten = false;
  /**
   * The response head, not yet written: it goes out in one cork with the first body bytes (one send,
   * not two). Until then a failure can still become a clean error answer.
   */
  private head: ResponseHead | null = null;
  /** The whole request body has been received from the client. */
  private requestComplete = false;
  status = 0;
  errorCode: ErrorCode | null = null;
  bytesWritten = 0;
  bytesIn = 0;
  /** Local reply decided in the handler, sent when the exchange would start. */
  private pending: LocalReply | null = null;
  private readingPaused = false;
  /** This request's spans, when they are exported. */
  private spans: RequestSpans | null = null;

  // ── timeouts.client_body_ms (worker/body-deadlines.ts) ──
  bodyDeadline = 0;
  prevReader: BodyReader | null = null;
  nextReader: BodyReader | null = null;
  /** performance.now() when sluice paused reading; the pause moves the deadline. */
  private pausedAt = 0;

  // ── response body framing ──
  /** Known response length (tryEnd), or -1 for chunked writes. */
  private total = -1;
  /** The head's length: a HEAD answer repeats the one the GET would have. */
  private headLength = -1;
  private bodyless = false;
  private chunk: Buffer | null = null;
  private chunkBase = 0;
  private writeOk = true;
  private writableHooked = false;
  private replying: LocalReply | null = null;
  private closeAfterReply = false;
  /**
   * The answer's body pieces, held while the request body is unfinished: the upstream answered
   * before reading all of it (EARLY_HOLD_BYTES). null otherwise.
   */
  private early: Buffer[] | null = null;
  private earlyBytes = 0;
  private earlyTimer: NodeJS.Timeout | null = null;
  /** An early answer too large to hold: the next write adds `Connection: close` to its head. */
  private announceClose = false;
  /** The head carries `Connection: close` already: it must not say it twice. */
  private closeSaid = false;

  // uWS calls these later with no context argument, so each is a closure; all but onAborted are
  // made only when a request needs them (a body to read, a slow client).
  private readonly onAborted = (): void => this.handleAborted();

  /**
   * cork() runs its callback synchronously, so the front door being corked sits in one static slot and
   * the callbacks are shared functions instead of closures allocated per request.
   */
  private static corking: UwsDownstream;
  private static readonly corkedWrite = (): void => UwsDownstream.corking.writeCorked();
  private static readonly corkedEnd = (): void => UwsDownstream.corking.endCorked();
  private static readonly corkedHead = (): void => UwsDownstream.corking.writeHeadCorked();
  private static readonly corkedReply = (): void => UwsDownstream.corking.replyCorked();
  private static readonly corkedAnnounce = (): void => UwsDownstream.corking.announceCorked();
  private cork(fn: () => void): void {
    UwsDownstream.corking = this;
    this.res.cork(fn);
  }

  constructor(
    private readonly res: HttpResponse,
    private readonly runtime: Runtime,
    scheme: 'http' | 'https',
  ) {
    inFlight.count++;
    this.ex = new Exchange(this, runtime.log);
    this.ex.scheme = scheme;
  }

  /** Called inside the uWS handler: copy the head, check it, route. Never awaits. */
  accept(req: HttpRequest): void {
    const res = this.res;
    const ex = this.ex;
    res.onAborted(this.onAborted);
    const plan = this.runtime.plan;
    const limits = plan.limits;
    const refusal = acceptHead(req, limits, ex);
    decideClient(ex, peerAddress(res), plan.trustedProxies);
    if (ex.peerTrusted) takeForwardedProto(ex);
    const given = ex.header('x-request-id');
    ex.id = given !== undefined && isPrintableId(given) ? given : requestId();
    const trace = (ex.trace = readTraceContext(ex.rawHeaders, plan.tracing.sample));
    const exporter = this.runtime.exporter;
    if (trace.sampled && exporter !== null) ex.trySpans = this.spans = new RequestSpans(ex, exporter);
    if (refusal !== null) return this.refuse(refusal);
    if (ex.contentLength > limits.maxBodyBytes) {
      return this.refuse({ code: 'SLUICE_ERR_BODY_TOO_LARGE', detail: '', closes: true });
    }
    if (ex.chunked && !limits.allowChunkedRequests) {
      return this.refuse({ code: 'SLUICE_ERR_LENGTH_REQUIRED', detail: '', closes: true });
    }
    const match = this.runtime.router.find(ex);
    if (match === null) {
      // The top-level ip: policy applies to every request; routes carry it in their ip stage.
      const denied = !ipAllowed(plan.stageSettings.ip as readonly IpRule[], ex.clientAddress);
      this.pending = errorReply(denied ? 'SLUICE_ERR_IP_DENIED' : 'SLUICE_ERR_ROUTE_NOT_FOUND', ex);
    } else {
      ex.route = match.route;
      ex.params = match.params;
      if (match.route.metrics !== null) match.route.metrics.inFlight++;
    }
    // A bodiless request gets no onData from uWS worth waiting for (one empty call): acceptHead has
    // already checked what uWS checks after the handler (the Content-Length digits), so that call is
    // made here, now.
    if (ex.contentLength <= 0 && !ex.chunked) return this.handleData(NO_BODY, true);
    const bodyMs = plan.timeouts.clientBodyMs;
    if (bodyMs > 0) bodyDeadlines.add(this, bodyMs);
    res.onData((ab, isLast) => this.handleData(ab, isLast));
  }

  /**
   * A refused head gets a JSON error. When the refusal ends the connection's use the answer is
   * deferred a turn and closes the connection: uWS keeps dispatching requests it already parsed from
   * the same bytes (a smuggled one after a CL.CL body), but closes the connection itself when a
   * pipelined request arrives while a response is pending, so such a request never reaches a handler.
   */
  private refuse(r: Refusal): void {
    const reply = errorReply(r.code, this.ex, r.detail || undefined);
    // The connection stays usable whatever the head announced (a bad path).
    if (!r.closes) return this.sendReply(reply, false);
    setImmediate(() => this.sendReply(reply, true));
  }

  // ── request body ──────────────────────────────────────────────────────────────────────────

  private handleData(ab: ArrayBuffer, isLast: boolean): void {
    if (this.finished) return;
    const ex = this.ex;
    const first = !this.started;
    if (first) {
      this.started = true;
      if (this.pending !== null) {
        // Close the connection when the client is still sending a body we will not read.
        this.sendReply(this.pending, !isLast);
        return;
      }
      ex.openBody();
    }
    if (ex.body !== null) this.pushBody(ab, isLast);
    else if (isLast) this.bodyReceived();
    if (first && !this.finished) ex.start();
  }

  private pushBody(ab: ArrayBuffer, isLast: boolean): void {
    if (ab.byteLength > 0) {
      this.bytesIn += ab.byteLength;
      if (this.ex.chunked && this.bytesIn > this.runtime.plan.limits.maxBodyBytes) {
        this.fail('SLUICE_ERR_BODY_TOO_LARGE');
        return;
      }
    }
    // uWS reuses `ab` after this callback returns: copy it.
    const chunk = ab.byteLength > 0 ? Buffer.from(new Uint8Array(ab)) : EMPTY;
    // Before the push: the last piece of a kept body starts the upstream leg from inside it, and an
    // answer the leg gives at once (circuit open, fallback) must know the body was read whole.
    if (isLast) this.bodyReceived();
    if (!this.ex.pushBody(chunk, isLast)) {
      this.readingPaused = true;
      this.pausedAt = performance.now();
      this.res.pause();
    }
  }

  /** The upstream wants more body: let uWS read from the client again. */
  resumeReading(): void {
    if (this.readingPaused && !this.aborted && !this.finished) {
      this.readingPaused = false;
      this.bodyDeadline += performance.now() - this.pausedAt;
      this.res.resume();
    }
  }

  private bodyReceived(): void {
    this.requestComplete = true;
    bodyDeadlines.remove(this);
  }

  get bodyReadingPaused(): boolean {
    return this.readingPaused;
  }

  /**
   * The body did not arrive within timeouts.client_body_ms. Nothing answered yet: 408 with
   * Connection: close (the rest of the body is never read). An answer already started: the
   * connection is cut. Either way the exchange ends, and the upstream leg aborts its try.
   */
  bodyTimedOut(): void {
    this.sendReply(errorReply('SLUICE_ERR_CLIENT_TIMEOUT', this.ex), true);
  }

  // ── the response (Downstream) ─────────────────────────────────────────────────────────────

  get responseStarted(): boolean {
    return this.headWritten || this.head !== null;
  }

  get closed(): boolean {
    return this.aborted || this.finished;
  }

  /** Take the head and choose the body framing; the head is written with the first body bytes. */
  writeHead(head: ResponseHead, more: boolean): void {
    if (this.aborted || this.finished) return;
    const status = head.status;
    this.status = status;
    this.bodyless = isBodyless(this.ex.method, status);
    this.total = this.bodyless ? -1 : head.length;
    this.headLength = head.length;
    this.head = head;
    // The rest of the request body will not be read upstream, and the client may stop sending it: the
    // connection's framing is no longer worth keeping (bodiless answers close in endWithoutBody).
    if (!this.requestComplete && !this.bodyless) {
      this.early = [];
      this.earlyTimer = setTimeout(earlyHoldOver, EARLY_HOLD_MS, this);
    }
    // When the producer says no body bytes surely come in this turn, the head goes no later than this
    // tick, so a slow stream's head is not held back.
    if (!more) queueMicrotask(() => this.flushPendingHead());
  }

  private flushPendingHead(): void {
    if (this.head !== null && !this.aborted && !this.finished) this.cork(UwsDownstream.corkedHead);
  }

  /** Inside cork. */
  private writeHeadCorked(): void {
    const head = this.head!;
    this.head = null;
    this.headWritten = true;
    this.res.writeStatus(downstreamHead(head, this.ex.id));
    // Draining: the client must not send another request on this connection. The head is the only
    // place to say so: uWS's end(…, true) after a chunked write puts "Connection: close" into the body.
    // An early answer and a bodiless one with the request body unread end with uWS's own close, which
    // writes the header itself.
    if (inFlight.draining && this.early === null && (!this.bodyless || this.requestComplete)) this.sayClose();
  }

  /** Inside cork, the head still open. */
  private sayClose(): void {
    if (this.closeSaid) return;
    this.closeSaid = true;
    this.res.writeHeader('connection', 'close');
  }

  /** Returns false when the client is slow: the producer waits for resume() (from onWritable). */
  writeChunk(chunk: Buffer): boolean {
    if (this.aborted || this.finished || this.bodyless) return true;
    if (this.early !== null) {
      if (this.earlyBytes + chunk.length <= EARLY_HOLD_BYTES && !this.requestComplete) {
        this.early.push(chunk);
        this.earlyBytes += chunk.length;
        return true;
      }
      chunk = this.releaseEarly(chunk);
    }
    this.chunk = chunk;
    this.cork(UwsDownstream.corkedWrite);
    return this.writeOk;
  }

  /**
   * Stop holding an early answer: too large, or the request body has been read whole meanwhile. The
   * held pieces go out before `chunk`; the head says close while the request body is still unfinished.
   */
  private releaseEarly(chunk: Buffer): Buffer {
    const held = this.early!;
    this.early = null;
    this.stopEarlyTimer();
    this.announceClose = !this.requestComplete;
    return held.length === 0 ? chunk : Buffer.concat([...held, chunk], this.earlyBytes + chunk.length);
  }

  /** EARLY_HOLD_MS passed with the early answer still unfinished: what is held goes out now. */
  earlyHoldOver(): void {
    this.earlyTimer = null;
    if (this.early === null || this.aborted || this.finished) return;
    const held = this.releaseEarly(EMPTY);
    // An empty write would end a chunked body: with nothing held, only the head goes (saying close).
    if (held.length === 0) {
      if (this.head !== null) this.cork(UwsDownstream.corkedHead);
      if (this.announceClose) this.cork(UwsDownstream.corkedAnnounce);
      return;
    }
    this.chunk = held;
    this.cork(UwsDownstream.corkedWrite);
  }

  private stopEarlyTimer(): void {
    if (this.earlyTimer === null) return;
    clearTimeout(this.earlyTimer);
    this.earlyTimer = null;
  }

  /** Inside cork: the head is written, no body yet: `Connection: close` joins it. */
  private announceCorked(): void {
    this.announceClose = false;
    this.sayClose();
  }

  private writeCorked(): void {
    if (this.head !== null) this.writeHeadCorked();
    const res = this.res;
    // The head is still open (nothing of the body was written): one more field fits.
    if (this.announceClose) this.announceCorked();
    const chunk = this.chunk!;
    this.bytesWritten += chunk.length;
    if (this.total >= 0) {
      this.chunkBase = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.total);
      if (done) {
        this.chunk = null;
        this.writeOk = true;
        this.complete();
        return;
      }
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
      if (done) {
        this.chunk = null;
        this.complete();
        return true;
      }
      if (!ok) return false;
      this.chunk = null;
    }
    this.writeOk = true;
    this.ex.resume();
    return true;
  }

  /** The response body ended: finish the response. */
  end(): void {
    if (this.aborted || this.finished) return;
    this.cork(UwsDownstream.corkedEnd);
  }

  private endCorked(): void {
    if (this.head !== null) this.writeHeadCorked();
    if (this.early !== null) return this.endEarly();
    // No closeConnection once body bytes went out: the head said close when draining (writeHeadCorked),
    // and the drain closes the connection once nothing is in flight; uWS would write a second header,
    // or one into a chunked body. A bodyless answer has no body to corrupt.
    if (this.bodyless) {
      this.endBodyless(this.ex.method === 'HEAD' ? this.headLength : -1, !this.requestComplete);
    } else if (this.total > 0) {
      // A known-length body that tryEnd has not finished means the upstream sent too little.
      if (this.chunk === null && this.bytesWritten < this.total) {
        this.res.close();
        this.errorCode = 'SLUICE_ERR_UPSTREAM_PROTOCOL';
      } else if (this.chunk !== null) {
        return; // tryEnd will complete from onWritable
      }
    } else {
      this.res.end(undefined, false);
    }
    this.complete();
  }

  /**
   * Inside cork: the held early answer goes out whole. uWS writes `Connection: close` and the length,
   * and closes the connection once the answer is sent, so the rest of the request body is never read
   * as a next request.
   */
  private endEarly(): void {
    const held = this.early!;
    this.early = null;
    this.stopEarlyTimer();
    if (this.total > 0 && this.earlyBytes < this.total) {
      // The upstream sent less than its Content-Length.
      this.res.close();
      this.errorCode = 'SLUICE_ERR_UPSTREAM_PROTOCOL';
    } else {
      const body = held.length === 1 ? held[0] : Buffer.concat(held, this.earlyBytes);
      this.bytesWritten += body.length;
      this.res.end(body, !this.requestComplete || inFlight.draining);
    }
    this.complete();
  }

  // ── local replies and failures ────────────────────────────────────────────────────────────

  /**
   * Answer from the gateway itself (stages, the upstream leg). The connection stays usable only if the
   * request body was read whole; sendReply is for the front door's own answers, which decide that themselves.
   */
  reply(r: LocalReply): void {
    this.sendReply(r, !this.requestComplete);
  }

  private sendReply(reply: LocalReply, close: boolean): void {
    if (this.aborted || this.finished) return;
    if (this.headWritten) return this.cut(reply.code);
    this.head = null;
    this.status = reply.status;
    this.errorCode = reply.code;
    this.replying = reply;
    this.closeAfterReply = close || inFlight.draining;
    this.cork(UwsDownstream.corkedReply);
    this.complete();
  }

  private replyCorked(): void {
    const r = this.replying!;
    const res = this.res;
    res.writeStatus(statusLine(r.status));
    if (r.headers) for (const [k, v] of r.headers) res.writeHeader(k, v);
    if (this.ex.id !== '') res.writeHeader('x-request-id', this.ex.id);
    const body = r.body ?? '';
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    // A HEAD answer announces the body a GET would get and sends none (uWS's end() would send it).
    if (this.ex.method === 'HEAD') return this.endBodyless(length, this.closeAfterReply);
    this.bytesWritten = length;
    res.end(body, this.closeAfterReply);
  }

  /**
   * End an answer without a body (HEAD, 204, 304); `length` is what a HEAD answer announces, -1 when
   * unknown. Inside cork. uWS 20.30's endWithoutBody takes care: given a length above 0 it leaves the
   * response pending as if that many bytes were still to come (the connection never idles out and the
   * client's next request on it is closed unanswered), and given any argument at all it writes a
   * Content-Length of its own (`undefined` is read as 2^63). So the length goes out as a header and
   * uWS gets no argument. An answer that must close the connection has to pass arguments: it says
   * Content-Length: 0 (a refused request).
   */
  private endBodyless(length: number, close: boolean): void {
    if (close) {
      this.res.endWithoutBody(0, true);
      return;
    }
    if (length >= 0) this.res.writeHeader('content-length', String(length));
    this.res.endWithoutBody();
  }

  fail(code: ErrorCode, detail?: string): void {
    if (this.aborted || this.finished) return;
    if (this.headWritten) return this.cut(code);
    this.reply(errorReply(code, this.ex, detail));
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
    this.complete();
  }

  /** Exactly once per request: the exchange finishes (onLog), the access log is written, the in-flight count released. */
  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopEarlyTimer();
    bodyDeadlines.remove(this);
    const ex = this.ex;
    ex.finish(this.aborted);
    const rt = this.runtime;
    rt.access.write(ex, rt.accessFormat);
    const route = ex.route;
    const m = route === null ? rt.unmatched : route.metrics;
    if (m !== null) {
      if (route !== null) m.inFlight--;
      m.finished(ex);
    }
    if (this.spans !== null) this.spans.finish();
    // Deferred: complete() may run inside res.cork(), and closing the app there would drop the corked bytes.
    if (--inFlight.count === 0 && inFlight.onIdle !== null) setImmediate(inFlight.onIdle);
  }
}

function earlyHoldOver(d: UwsDownstream): void {
  d.earlyHoldOver();
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
