import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors/catalog.js';
import { isBodyless } from '../http/bodyless.js';
import { dropFields } from '../http/fields.js';
import { BodyChain, type ChainEnds } from './body-chain.js';
import type { FrontDoor, LegHandle, LegRequest, TrySpans } from './downstream.js';
import type { LocalReply, Outcome, ResponseHead, Stage, UpstreamRequestHead } from './phase.js';
import { RequestBody } from './request-body.js';
import type { Principal, RequestCtx, TraceContext } from './request-ctx.js';
import type { RouteRuntime } from './route-runtime.js';

/**
 * One request and its response, run through every phase: this is the runner. The front door
 * (worker/uws-downstream.ts) fills in the request, starts the exchange once the framing is known
 * good, feeds it the body, and tells it when the response is over; the exchange runs the stages and
 * the upstream leg, and every response byte passes through it on the way to the front door.
 *
 *   body bytes ─▶ [onRequestBody transforms] ─▶ RequestBody (kept, or streamed to the leg)
 *   start ─▶ onRequest* ─┬─ a stage answers ───────────────────────────────────────────────┐
 *                        └─▶ upstream leg ─ per try: onUpstreamRequest* ─▶ writeHead: onResponse*
 *                            ─▶ chunks: [onResponseBody transforms] ─────────────────────▶ front door
 *   finish (exactly once: answered, failed or the client went away) ─▶ release the leg ─▶ onLog*
 *
 * A route without body stages has no chain: its bytes take the direct path (one null check).
 */
export class Exchange implements RequestCtx, LegRequest, Outcome {
  // ── the request, copied out by the front door (worker/accept.ts) ──
  id = '';
  method = '';
  rawUrl = '';
  path = '';
  query = '';
  logQuery: string | null = null;
  host = '';
  scheme: 'http' | 'https' = 'http';
  rawHeaders: string[] = [];
  contentLength = -1;
  chunked = false;
  peerAddress = '';
  clientAddress = '';
  forwardedFor = '';
  peerTrusted = false;
  principal: Principal | null = null;
  trace: TraceContext | null = null;
  /** Set by the front door when this request's spans are exported. */
  trySpans: TrySpans | null = null;
  params: readonly string[] = [];
  stageState: unknown[] | null = null;
  readonly startedAt = performance.now();
  /** performance.now() as the exchange finished; 0 before. */
  private endedAt = 0;
  route: RouteRuntime | null = null;
  /** The stage that answered the request itself (its name), or null. */
  answeredBy: string | null = null;

  body: RequestBody | null = null;
  leg: LegHandle | null = null;
  private requestChain: BodyChain | null = null;
  private responseChain: BodyChain | null = null;
  private finished = false;

  constructor(
    private readonly front: FrontDoor,
    private readonly log: Logger,
  ) {}

  get routeName(): string {
    return this.route === null ? '' : this.route.name;
  }

  get ctx(): RequestCtx {
    return this;
  }

  header(lowerName: string): string | undefined {
    const h = this.rawHeaders;
    for (let i = 0; i < h.length; i += 2) if (h[i] === lowerName) return h[i + 1];
    return undefined;
  }

  // ── the request body, fed by the front door ─────────────────────────────────────────────

  /**
   * Before the first body bytes: a body small enough is kept whole for retries, any other is
   * streamed; a body that onRequestBody stages transform is streamed, chunked.
   */
  openBody(): void {
    if (this.contentLength <= 0 && !this.chunked) return;
    const route = this.route!;
    if (route.onRequestBody !== null) {
      const ends = new RequestEnds(this, this.front);
      this.requestChain = ends.chain = BodyChain.build(route.onRequestBody, (s, sink) => s.onRequestBody!(this, sink), ends);
      if (this.requestChain !== null) {
        this.body = new RequestBody(false, true, ends);
        return;
      }
    }
    const f = route.forwarder;
    this.body = new RequestBody(f !== null && f.keepsBody(this.contentLength, this.chunked), this.chunked, this.front);
  }

  /** A piece of the body from the client, owned by the exchange from now on. False: stop reading until resumeReading(). */
  pushBody(chunk: Buffer, last: boolean): boolean {
    const chain = this.requestChain;
    if (chain === null) return this.body!.push(chunk, last);
    const more = chunk.length === 0 || chain.write(chunk);
    if (last) chain.end();
    return more || last;
  }

  // ── request phases ──────────────────────────────────────────────────────────────────────

  /** The front door calls this once the request's framing is known good (its first body read). */
  start(): void {
    const stages = this.route!.onRequest;
    if (stages === null) this.forward();
    else this.runRequestStages(stages, 0);
  }

  private runRequestStages(stages: readonly Stage[], from: number): void {
    for (let i = from; i < stages.length; i++) {
      let verdict: LocalReply | null | Promise<LocalReply | null>;
      try {
        verdict = stages[i].onRequest!(this);
      } catch (err) {
        return this.stageFailed(stages[i], err);
      }
      if (verdict === null) continue;
      if (isThenable(verdict)) {
        verdict.then(
          (v) => this.afterAwait(stages, i, v),
          (err) => this.stageFailed(stages[i], err),
        );
        return;
      }
      return this.answer(stages, i, verdict);
    }
    this.forward();
  }

  /** Stage i answered: the stages before it, which let the request pass, may add to the reply. */
  private answer(stages: readonly Stage[], i: number, verdict: LocalReply): void {
    let r = verdict;
    for (let k = 0; k < i; k++) {
      const s = stages[k];
      if (s.onLocalReply === undefined) continue;
      try {
        r = s.onLocalReply(this, r);
      } catch (err) {
        return this.stageFailed(s, err);
      }
    }
    this.answeredBy = stages[i].name;
    this.reply(r);
  }

  /** An awaited stage answered. If the request ended meanwhile (client gone, onLog run), no later stage may take anything. */
  private afterAwait(stages: readonly Stage[], i: number, verdict: LocalReply | null): void {
    if (this.finished) return;
    if (verdict === null) this.runRequestStages(stages, i + 1);
    else this.answer(stages, i, verdict);
  }

  private stageFailed(stage: Stage, err: unknown): void {
    this.log.error({ err, request_id: this.id, stage: stage.name }, 'stage failed');
    this.fail('SLUICE_ERR_INTERNAL');
  }

  /** Hand the request to the upstream leg; a kept body is read whole first, so every try can send it. */
  private forward(): void {
    if (this.front.closed) return;
    const body = this.body;
    if (body !== null && body.stream === null && !body.complete) return body.whenComplete(this);
    const f = this.route!.forwarder;
    if (f === null) return this.fail('SLUICE_ERR_INTERNAL', 'route has neither an upstream nor an answer');
    // Held before it starts: whatever the leg takes is given back in finish(), even if it ends the exchange at once.
    this.leg = f.createLeg(this);
    this.leg.start();
  }

  /** RequestBody: the kept body is complete. */
  bodyComplete(): void {
    this.forward();
  }

  onUpstreamRequest(head: UpstreamRequestHead): void {
    // A transformed body's length is known only at its end: it goes chunked, without the client's length.
    if (this.requestChain !== null) dropFields(head.headers, 'content-length');
    const stages = this.route!.onUpstreamRequest;
    if (stages !== null) for (const s of stages) s.onUpstreamRequest!(this, head);
  }

  // ── the response, on its way to the front door (Downstream) ─────────────────────────────

  get responseStarted(): boolean {
    return this.front.responseStarted;
  }

  get closed(): boolean {
    return this.front.closed;
  }

  writeHead(head: ResponseHead, more: boolean): void {
    if (this.front.closed) return;
    const route = this.route!;
    if (route.onResponse !== null) for (const s of route.onResponse) s.onResponse!(this, head);
    if (route.onResponseBody !== null && !isBodyless(this.method, head.status)) {
      const ends = new ResponseEnds(this, this.front);
      this.responseChain = BodyChain.build(route.onResponseBody, (s, sink) => s.onResponseBody!(this, head, sink), ends);
      // A transform's output may come later than its input: the head then leaves on its own.
      if (this.responseChain !== null) more = false;
    }
    this.front.writeHead(head, more);
  }

  writeChunk(chunk: Buffer): boolean {
    const chain = this.responseChain;
    return chain === null ? this.front.writeChunk(chunk) : chain.write(chunk);
  }

  end(): void {
    const chain = this.responseChain;
    if (chain === null) this.front.end();
    else chain.end();
  }

  reply(r: LocalReply): void {
    this.front.reply(r);
  }

  fail(code: ErrorCode, detail?: string): void {
    this.front.fail(code, detail);
  }

  /** The client drained: more of the response may flow. */
  resume(): void {
    const chain = this.responseChain;
    if (chain !== null) chain.drain();
    else this.leg?.resume();
  }

  /** The front door is done with the request (answered, failed, or the client went away). Runs once. */
  finish(clientGone: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.endedAt = performance.now();
    this.requestChain?.destroy();
    this.responseChain?.destroy();
    this.body?.destroy();
    this.leg?.release(clientGone);
    const stages = this.route === null ? null : this.route.onLog;
    if (stages === null) return;
    for (const s of stages) {
      try {
        s.onLog!(this, this);
      } catch (err) {
        this.log.error({ err, request_id: this.id, stage: s.name }, 'onLog failed');
      }
    }
  }

  // ── how it went (Outcome, and what the access log reads) ────────────────────────────────

  get status(): number {
    return this.front.status;
  }
  /** The code the client got, or else the upstream error a retry was waiting out when the client left. */
  get errorCode(): ErrorCode | null {
    const leg = this.leg;
    return this.front.errorCode ?? (leg === null ? null : leg.lastError);
  }
  get bytesOut(): number {
    return this.front.bytesWritten;
  }
  get bytesIn(): number {
    return this.front.bytesIn;
  }
  get durationMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }
  get tries(): number {
    return this.leg === null ? 0 : this.leg.tries;
  }
  get upstreamName(): string | null {
    return this.leg === null ? null : this.leg.upstreamName;
  }
  get endpoint(): string | null {
    return this.leg === null ? null : this.leg.endpoint;
  }
  get logPath(): string {
    return this.path || this.rawUrl;
  }
  get logRoute(): string | null {
    return this.route === null ? null : this.route.name;
  }
}

/** Between the client's body and the RequestBody the upstream leg reads, when stages transform it. */
class RequestEnds implements ChainEnds {
  chain: BodyChain | null = null;

  constructor(
    private readonly ex: Exchange,
    private readonly front: FrontDoor,
  ) {}

  deliver(chunk: Buffer): boolean {
    return this.ex.body!.push(chunk, false);
  }

  finish(): void {
    this.ex.body!.push(null, true);
  }

  resumeSource(): void {
    this.front.resumeReading();
  }

  /** The RequestBody's feeder: the upstream client reads again, so the last transform may push again. */
  resumeReading(): void {
    this.chain?.drain();
  }
}

/** Between the upstream leg's answer and the front door, when stages transform it. */
class ResponseEnds implements ChainEnds {
  constructor(
    private readonly ex: Exchange,
    private readonly front: FrontDoor,
  ) {}

  deliver(chunk: Buffer): boolean {
    return this.front.writeChunk(chunk);
  }

  finish(): void {
    this.front.end();
  }

  resumeSource(): void {
    this.ex.leg?.resume();
  }
}

function isThenable(v: unknown): v is Promise<LocalReply | null> {
  return typeof (v as { then?: unknown }).then === 'function';
}
