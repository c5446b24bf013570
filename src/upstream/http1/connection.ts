import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { NO_LINES } from '../../http/head-lines.js';
import { isIdempotent } from '../../http/idempotent.js';
import { CHUNKED_DONE, CHUNKED_ERROR, ChunkedDecoder } from './chunked-decoder.js';
import { requestHead } from './request-bytes.js';
import { incompleteHeadProblem, type ParsedHead, parseHead } from './response-head.js';
import { bodyTimeout, closedEarly, connectFailed, connectTimeout, headersTimeout, protocolError, type UpstreamTry, uploadTimeout } from './upstream-try.js';

/** What one endpoint's connections are opened and timed with (from the compiled plan). */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  /**
   * https: endpoint: the tls.connect options, made once per pool (pools.ts) with SNI, trusted CAs,
   * client certificate and checks; null = plain TCP.
   */
  readonly tls: tls.ConnectionOptions | null;
  /** Requests in flight per connection; 1 = no pipelining. */
  readonly pipelining: number;
  readonly keepAliveMs: number;
  readonly connectMs: number;
  readonly headersMs: number;
  readonly idleMs: number;
  /** limits.upstream_header_bytes: the longest response head, status line to the empty line included. */
  readonly maxHeadBytes: number;
  /** limits.upstream_header_count: the most header lines in a response head. */
  readonly maxHeadLines: number;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** No try waits on this connection any more, and it can take another. */
  idle(c: Connection): void;
  /** It can take one more pipelined try. */
  room(c: Connection): void;
  gone(c: Connection): void;
  /** A try the connection could not answer, safe to send again on another connection. */
  resend(t: UpstreamTry): void;
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const NO_BYTES = Buffer.alloc(0);

// Where the answer being read is.
const HEAD = 0,
  LENGTH = 1,
  CHUNKED = 2,
  UNTIL_CLOSE = 3;
// What the connection's one deadline is for.
const NONE = 0,
  CONNECT = 1,
  HEADERS = 2,
  BODY = 3,
  KEEP_ALIVE = 4,
  UPLOAD = 5;

/**
 * One keep-alive HTTP/1.1 connection to an endpoint: writes each try's request head (and body), reads
 * the answers in order, strictly (response-head.ts, chunked-decoder.ts), and hands the bytes to the try
 * as they are. A connection whose framing is in any doubt is closed, never reused.
 *
 *   connect ─▶ write request ─▶ HEAD ─▶ LENGTH | CHUNKED | UNTIL_CLOSE ─▶ answered ─▶ idle (pool) ─▶ …
 *                                  └─ 1xx: read past            any fault: the tries fail, socket closed
 *
 * Timeouts use one deadline per connection that each request moves, and a timer re-armed only when the
 * deadline moves earlier than it: no timer is created or cleared per request.
 */
export class Connection {
  private readonly socket: net.Socket;
  /** Tries written (or waiting for the connect), oldest first: the answer being read is inflight[0]'s. */
  readonly inflight: UpstreamTry[] = [];
  private ready = false;
  isClosed = false;
  /** Answers completed on this connection. */
  private served = 0;
  /** Whether inflight[0] has had any byte of its answer. */
  private answering = false;
  /** A streamed request body being written. */
  private pipe: BodyPipe | null = null;
  /** The socket is corked until the end of this event-loop turn (pipelining). */
  private batching = false;

  private phase = HEAD;
  /** A response head split across reads: its bytes so far (partialLength of them). */
  private partialHead: Buffer | null = null;
  private partialLength = 0;
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  private readonly parsed: ParsedHead = {
    status: 0,
    lines: NO_LINES,
    contentLength: -1,
    chunked: false,
    keepAlive: true,
    keepAliveHintMs: -1,
    connectionNamed: null,
  };
  private keepAlive = true;
  private keepAliveMs: number;
  private paused = false;
  private held: Buffer | null = null;
  private heldAt = 0;

  private deadline = 0;
  private deadlineKind = NONE;
  private deadlineMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly s: ConnectionSettings,
  ) {
    this.keepAliveMs = s.keepAliveMs;
    if (s.tls !== null) {
      this.socket = tls.connect(s.tls);
      this.socket.setNoDelay(true);
      this.socket.once('secureConnect', this.onConnect);
    } else {
      this.socket = net.connect({ host: s.host, port: s.port, noDelay: true });
      this.socket.once('connect', this.onConnect);
    }
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
    this.socket.on('drain', this.onDrain);
    this.arm(CONNECT, s.connectMs);
  }

  /** Whether this connection can take `t` now, beside what it has in flight (pipelining). */
  canTake(t: UpstreamTry): boolean {
    if (this.isClosed) return false;
    return this.inflight.length === 0 || (this.canTakeMore() && repeatable(t));
  }

  send(t: UpstreamTry): void {
    t.link = this;
    this.inflight.push(t);
    if (this.ready) this.write(t);
  }

  /** Stop `t`: the connection goes with it (some of it may be on the wire already). */
  abort(t: UpstreamTry, err: Error): void {
    if (this.inflight.includes(t)) this.teardown(err, t);
  }

  /** The try reading the current answer has room downstream again. */
  resume(t: UpstreamTry): void {
    if (!this.paused || this.inflight[0] !== t) return;
    this.paused = false;
    this.arm(BODY, this.s.idleMs);
    const held = this.held;
    this.held = null;
    if (held !== null) this.read(held, this.heldAt);
    if (!this.paused && !this.isClosed) this.socket.resume();
  }

  /**
   * Idle past its keep-alive time (a busy event loop runs the timer late): the upstream may close it
   * as the next request goes out, so it goes now, quietly, instead of being reused.
   */
  expiredIdle(): boolean {
    if (this.deadlineKind !== KEEP_ALIVE || this.deadline > performance.now()) return false;
    this.teardown(null, null);
    return true;
  }

  /** Close now if idle, else once the answers in flight are read (the pool is closing). */
  closeWhenIdle(): void {
    if (this.inflight.length === 0) this.teardown(null, null);
    else this.keepAlive = false;
  }

  destroy(err: Error): void {
    this.teardown(err, null);
  }

  // ── request ───────────────────────────────────────────────────────────────────────────────

  private readonly onConnect = (): void => {
    this.disarm();
    // By index, with `ready` still false: a try that writing one lets in (room → send) is only
    // queued by send() and written here, once.
    for (let k = 0; k < this.inflight.length; k++) this.write(this.inflight[k]);
    this.ready = true;
  };

  private write(t: UpstreamTry): void {
    // Pipelined requests from one event-loop turn (many clients' requests, read in one poll) leave in
    // one writev, and their answers tend to come back in one read: fewer system calls and wake-ups.
    if (this.s.pipelining > 1 && !this.batching) {
      this.batching = true;
      this.socket.cork();
      setImmediate(endBatch, this);
    }
    // Hot path: the head as bytes and one write (a kept body joins it in one writev).
    const body = t.body;
    if (body === null) {
      this.socket.write(requestHead(t, false));
    } else if (Buffer.isBuffer(body)) {
      this.socket.cork();
      this.socket.write(requestHead(t, false));
      this.socket.write(body);
      this.socket.uncork();
    } else {
      this.socket.write(requestHead(t, t.chunkedBody));
      // A stalled upload (client or upstream) ends after idle_ms, not after the keep-alive time.
      this.arm(UPLOAD, this.s.idleMs);
      this.pipe = new BodyPipe(this, t, body, this.socket);
      return;
    }
    this.sent(t);
  }

  /** All of t's request is on its way: the wait for its answer starts once it is the oldest. */
  sent(t: UpstreamTry): void {
    if (this.pipe !== null && this.pipe.t === t) this.pipe = null;
    if (this.inflight[0] === t && !this.answering) this.arm(HEADERS, t.headersTimeoutMs > 0 ? t.headersTimeoutMs : this.s.headersMs);
    if (this.canTakeMore()) this.owner.room(this);
  }

  /** The turn's pipelined requests are written: send them. */
  endBatch(): void {
    this.batching = false;
    if (!this.isClosed) this.socket.uncork();
  }

  private canTakeMore(): boolean {
    const n = this.inflight.length;
    return n > 0 && n < this.s.pipelining && this.pipe === null && this.keepAlive && repeatable(this.inflight[n - 1]);
  }

  private readonly onDrain = (): void => {
    this.pipe?.drained();
  };

  /** Some of a streamed request body went out. */
  uploading(): void {
    if (this.deadlineKind === UPLOAD) this.deadline = performance.now() + this.deadlineMs;
  }

  // ── response ──────────────────────────────────────────────────────────────────────────────

  private readonly onData = (buf: Buffer): void => {
    if (this.deadlineKind === BODY) this.deadline = performance.now() + this.deadlineMs;
    try {
      this.read(buf, 0);
    } catch (err) {
      // A try's callback threw (a bug): this connection's state is unknown, so it goes.
      this.teardown(err as Error, null);
    }
  };

  /** Hot path: consume buf[at...] for the tries in flight, in order. */
  private read(buf: Buffer, at: number): void {
    while (at < buf.length) {
      const t = this.inflight[0];
      if (t === undefined) return this.teardown(protocolError('bytes from the upstream with no request in flight'), null);
      this.answering = true;
      if (this.phase === HEAD) {
        at = this.partialHead === null ? this.readHead(t, buf, at) : this.readSplitHead(t, buf, at);
        if (at < 0) return;
      } else if (this.phase === LENGTH) {
        const n = Math.min(this.remaining, buf.length - at);
        this.remaining -= n;
        const more = t.onData(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
        at += n;
        if (this.isClosed) return;
        if (this.remaining === 0) {
          if (!this.answered(buf, at)) return;
        } else if (!more) {
          return this.pause(buf, at);
        }
      } else if (this.phase === CHUNKED) {
        const d = this.decoder!;
        if (!d.inData) {
          const r = d.step(buf, at, buf.length);
          if (r === CHUNKED_ERROR) return this.teardown(protocolError(d.error), null);
          if (r === CHUNKED_DONE) {
            if (!this.answered(buf, d.doneAt)) return;
            at = d.doneAt;
            continue;
          }
          at = r;
          if (!d.inData) continue;
        }
        const n = Math.min(d.remaining, buf.length - at);
        if (n === 0) continue;
        d.consumed(n);
        const more = t.onData(buf.subarray(at, at + n));
        at += n;
        if (this.isClosed) return;
        if (!more) return this.pause(buf, at);
      } else {
        const more = t.onData(at === 0 ? buf : buf.subarray(at));
        at = buf.length;
        if (this.isClosed) return;
        if (!more) return this.pause(buf, at);
      }
    }
  }

  /** A head starting at buf[at], in this read: returns where its body starts, or -1 (incomplete, or failed). */
  private readHead(t: UpstreamTry, buf: Buffer, at: number): number {
    const max = this.s.maxHeadBytes;
    const idx = buf.indexOf(HEAD_END, at);
    if (idx >= 0 && idx + 4 - at <= max) return this.onHead(t, buf, at, idx + 4, buf, idx + 4);
    // No end within the first `max` bytes: the head is larger than the limit, whatever follows.
    if (idx >= 0 || buf.length - at >= max) return this.headTooLarge();
    if (this.incompleteHeadRefused(buf, at, at, buf.length)) return -1;
    this.partialHead = at === 0 ? buf : buf.subarray(at);
    this.partialLength = buf.length - at;
    return -1;
  }

  /**
   * The rest of a head split across reads. Its bytes are copied into one buffer of the limit's size
   * (made on the first continuation), so a head arriving in many small reads costs linear copying and
   * never more memory than the limit.
   */
  private readSplitHead(t: UpstreamTry, buf: Buffer, at: number): number {
    const max = this.s.maxHeadBytes;
    const have = this.partialLength;
    let acc = this.partialHead!;
    if (acc.length < max) {
      acc = Buffer.allocUnsafe(max);
      this.partialHead!.copy(acc, 0, 0, have);
      this.partialHead = acc;
    }
    const take = Math.min(buf.length - at, max - have);
    buf.copy(acc, have, at, at + take);
    const length = have + take;
    const idx = acc.subarray(0, length).indexOf(HEAD_END, Math.max(0, have - 3));
    if (idx < 0) {
      if (length >= max) return this.headTooLarge();
      if (this.incompleteHeadRefused(acc, 0, have, length)) return -1;
      this.partialLength = length;
      return -1;
    }
    this.partialHead = null;
    const end = idx + 4;
    return this.onHead(t, acc, 0, end, buf, at + end - have);
  }

  /** A head still waiting for its end that never can end well (incompleteHeadProblem): refused now. */
  private incompleteHeadRefused(head: Buffer, start: number, from: number, end: number): boolean {
    const problem = incompleteHeadProblem(head, start, from, end);
    if (problem === null) return false;
    this.teardown(protocolError(problem), null);
    return true;
  }

  private headTooLarge(): number {
    this.teardown(protocolError(`response head larger than ${this.s.maxHeadBytes} bytes`), null);
    return -1;
  }

  /**
   * The head in head[start, end) is complete; its body (or the next answer) starts at buf[next].
   * Returns `next`, or -1 when the connection went (a parse fault, a callback that closed it).
   */
  private onHead(t: UpstreamTry, head: Buffer, start: number, end: number, buf: Buffer, next: number): number {
    const p = this.parsed;
    const problem = parseHead(head, start, end, p, this.s.maxHeadLines);
    if (problem !== null) {
      this.teardown(protocolError(problem), null);
      return -1;
    }
    if (p.status < 200) {
      // 100 Continue, 102, 103 Early Hints: not relayed. 101 would switch protocols: never asked for.
      if (p.status === 101) {
        this.teardown(protocolError('unexpected 101 Switching Protocols'), null);
        return -1;
      }
      return next;
    }
    if (!p.keepAlive) this.keepAlive = false;
    if (p.keepAliveHintMs >= 0) this.keepAliveMs = Math.min(this.s.keepAliveMs, keepAliveWithin(p.keepAliveHintMs));
    const noBody = p.status === 204 || p.status === 304;
    // A 304 with a Content-Length, or a chunked 204/304, may send a body: never read it as the next
    // answer's head. (parseHead refused a 204 with a non-zero Content-Length.)
    if (noBody && (p.contentLength > 0 || p.chunked)) this.keepAlive = false;
    if (t.method === 'HEAD' || noBody || p.contentLength === 0) {
      t.onHeaders(p, true);
      if (this.isClosed) return -1;
      return this.answered(buf, next) ? next : -1;
    }
    if (p.chunked) {
      this.phase = CHUNKED;
      (this.decoder ??= new ChunkedDecoder()).reset();
    } else if (p.contentLength > 0) {
      this.phase = LENGTH;
      this.remaining = p.contentLength;
    } else {
      this.phase = UNTIL_CLOSE;
      this.keepAlive = false;
    }
    this.arm(BODY, this.s.idleMs);
    // Chunked framing bytes may hold no data yet: only a length- or close-delimited body surely follows.
    t.onHeaders(p, this.phase !== CHUNKED && next < buf.length);
    return this.isClosed ? -1 : next;
  }

  /**
   * inflight[0]'s answer ended at buf[at]. Returns whether reading may go on (pipelined answers).
   * Bytes after an answer with nothing else in flight are a framing fault: the connection is dropped.
   */
  private answered(buf: Buffer, at: number): boolean {
    const t = this.inflight.shift()!;
    t.link = null;
    this.phase = HEAD;
    this.answering = false;
    this.served++;
    const stray = at < buf.length && this.inflight.length === 0;
    // An upstream that answered before reading all of the request body may not read the rest.
    const bodyUnsent = this.pipe !== null && this.pipe.t === t;
    if (!this.keepAlive || this.keepAliveMs <= 0 || stray || bodyUnsent) {
      this.teardown(null, null);
    } else if (this.inflight.length === 0) {
      this.arm(KEEP_ALIVE, this.keepAliveMs);
    } else {
      const next = this.inflight[0];
      if (this.pipe === null || this.pipe.t !== next) this.arm(HEADERS, next.headersTimeoutMs > 0 ? next.headersTimeoutMs : this.s.headersMs);
    }
    t.onComplete();
    if (this.isClosed) return false;
    if (this.inflight.length === 0) this.owner.idle(this);
    else if (this.canTakeMore()) this.owner.room(this);
    return !this.isClosed;
  }

  private pause(buf: Buffer, at: number): void {
    this.paused = true;
    // The upstream is not idle while the client is slow: no body timeout until resume.
    this.disarm();
    this.socket.pause();
    if (at < buf.length) {
      this.held = buf;
      this.heldAt = at;
    }
  }

  private readonly onEnd = (): void => {
    // A body delimited by the close is complete now; anything else in flight was cut short.
    if (this.phase === UNTIL_CLOSE && this.inflight.length > 0) this.answered(NO_BYTES, 0);
    this.teardown(null, null);
  };

  private readonly onError = (err: Error): void => {
    // Before the connection is up (refused, reset in the TLS handshake, a bad certificate) nothing of
    // the request reached the upstream: any method may go elsewhere.
    this.teardown(this.ready ? err : connectFailed(err), null);
  };

  private readonly onClose = (): void => {
    this.teardown(null, null);
  };

  /**
   * The connection ends for good. `cause` goes to `only` (an aborted try) or else to the try whose
   * answer was awaited; the others in flight are sent again where that is safe, or fail as cut short.
   */
  private teardown(cause: Error | null, only: UpstreamTry | null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.disarm();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.pipe?.stop();
    this.pipe = null;
    this.socket.destroy();
    const tries = this.inflight.splice(0);
    // Unanswered tries beside an aborted one, or on a reused connection that closed, may go again.
    const stale = only !== null || (this.served > 0 && staleCause(cause));
    for (let k = 0; k < tries.length; k++) {
      const t = tries[k];
      t.link = null;
      const answering = k === 0 && this.answering;
      try {
        if (t === only) t.onError(cause!);
        else if (!answering && (k > 0 || stale) && mayResend(t)) {
          t.resent = true;
          t.onResend(k === 0 ? 'stale' : 'behind');
          this.owner.resend(t);
        } else if (k === 0 && cause !== null && only === null) t.onError(cause);
        else t.onError(closedEarly(answering ? 'connection closed during the response' : 'connection closed before the response'));
      } catch {
        /* a try's callback threw: the others still hear of the end */
      }
    }
    this.owner.gone(this);
  }

  // ── the deadline ──────────────────────────────────────────────────────────────────────────

  private arm(kind: number, ms: number): void {
    const at = performance.now() + ms;
    this.deadline = at;
    this.deadlineKind = kind;
    this.deadlineMs = ms;
    if (this.timer === null || this.timerAt > at) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(onTimer, Math.ceil(ms), this).unref();
      this.timerAt = at;
    }
  }

  private disarm(): void {
    this.deadline = 0;
    this.deadlineKind = NONE;
  }

  /** The timer fired: act if the deadline passed, else wait for the rest of it. */
  checkDeadline(): void {
    this.timer = null;
    if (this.deadlineKind === NONE || this.isClosed) return;
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.timer = setTimeout(onTimer, Math.ceil(left), this).unref();
      this.timerAt = this.deadline;
      return;
    }
    const ms = this.deadlineMs;
    switch (this.deadlineKind) {
      case CONNECT:
        return this.teardown(connectTimeout(ms), null);
      case HEADERS:
        return this.teardown(headersTimeout(ms), null);
      case BODY:
        return this.teardown(bodyTimeout(ms), null);
      case UPLOAD:
        // Nothing is waiting to be written: the upstream takes what it gets, and the client is the one that
        // stopped sending. Ending that is timeouts.client_body_ms's job (a 408 from the front door) or uWS's
        // own timer's, not an upstream timeout's (a 504 would blame the upstream).
        if (this.socket.writableLength === 0) return this.arm(UPLOAD, ms);
        return this.teardown(uploadTimeout(ms), null);
      default:
        return this.teardown(null, null); // idle for keep-alive: closed quietly
    }
  }
}

/**
 * How long to keep an idle connection to an upstream that advertised `Keep-Alive: timeout=N`: well
 * within N, so that a request never leaves just as the upstream closes the connection. One second
 * less, or half of N when that is shorter (timeout=1 → 500 ms; timeout=5 → 4 s).
 */
function keepAliveWithin(hintMs: number): number {
  return hintMs - Math.min(1000, hintMs / 2);
}

function onTimer(c: Connection): void {
  c.checkDeadline();
}

function endBatch(c: Connection): void {
  c.endBatch();
}

/**
 * A request nobody answered may be sent once more, on another connection, when it can be sent again
 * (no streamed body) and repeating it is harmless (idempotent): it was behind a failed answer on a
 * pipelined connection, or it met a reused connection the upstream had just closed as idle
 * (nodejs/undici#3141).
 */
function mayResend(t: UpstreamTry): boolean {
  return !t.resent && repeatable(t);
}

/** A clean close or a reset, not a timeout: what an upstream closing an idle connection looks like. */
function staleCause(cause: Error | null): boolean {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  return cause === null || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Idempotent and without a streamed body: what may be resent, or pipelined behind another request. */
function repeatable(t: UpstreamTry): boolean {
  return isIdempotent(t.method) && (t.body === null || Buffer.isBuffer(t.body));
}

/**
 * A streamed request body on its way to the connection, with backpressure: a full socket pauses the
 * stream (which pauses the client), its drain resumes it. Chunked framing when the body has no length.
 */
class BodyPipe {
  private stopped = false;

  constructor(
    private readonly c: Connection,
    readonly t: UpstreamTry,
    private readonly body: Readable,
    private readonly socket: net.Socket,
  ) {
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('close', this.onClose);
    // Destroyed while the try waited for a connection: 'close' has been and gone.
    if (body.destroyed) process.nextTick(this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (chunk.length === 0) return; // an empty chunk would read as the end of a chunked body
    const socket = this.socket;
    let ok: boolean;
    this.c.uploading();
    if (this.t.chunkedBody) {
      socket.cork();
      socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.body.pause();
  };

  private readonly onEnd = (): void => {
    if (this.stopped) return;
    if (this.t.chunkedBody) this.socket.write('0\r\n\r\n', 'latin1');
    this.stop();
    this.c.sent(this.t);
  };

  /** The stream was destroyed before its end: the client went away, and so does this try. */
  private readonly onClose = (): void => {
    if (this.stopped) return;
    this.stop();
    this.c.abort(this.t, closedEarly('the request body ended early'));
  };

  drained(): void {
    if (this.stopped) return;
    this.c.uploading();
    this.body.resume();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('close', this.onClose);
  }
}
