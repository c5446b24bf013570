import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors/catalog.js';
import type { FrontDoor, LegHandle, LegRequest } from './downstream.js';
import type { LocalReply, Outcome, ResponseHead, Stage, UpstreamRequestHead } from './phase.js';
import { RequestBody } from './request-body.js';
import type { RequestCtx } from './request-ctx.js';
import type { RouteRuntime } from './route-runtime.js';

/**
 * One request and its response, run through every phase: this is the runner. The front door
 * (worker/uws-downstream.ts) fills in the request, starts the exchange once the framing is known
 * good, feeds it the body, and tells it when the response is over; the exchange runs the stages and
 * the upstream leg, and every response byte passes through it on the way to the front door.
 *
 *   start ─▶ onRequest* ─┬─ a stage answers ─────────────────────────────────────┐
 *                        └─▶ upstream leg ─ per try: onUpstreamRequest* ─▶ writeHead: onResponse* ─▶ front door
 *   finish (exactly once: answered, failed or the client went away) ─▶ release the leg ─▶ onLog*
 */
export class Exchange implements RequestCtx, LegRequest, Outcome {
  // ── the request, copied out by the front door (worker/accept.ts) ──
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
  routeName = '';
  params: readonly string[] = [];
  stageState: unknown[] | null = null;
  readonly startedAt = performance.now();
  route: RouteRuntime | null = null;

  body: RequestBody | null = null;
  private leg: LegHandle | null = null;
  private finished = false;

  constructor(
    private readonly front: FrontDoor,
    private readonly log: Logger,
  ) {}

  get ctx(): RequestCtx {
    return this;
  }

  header(lowerName: string): string | undefined {
    const h = this.rawHeaders;
    for (let i = 0; i < h.length; i += 2) if (h[i] === lowerName) return h[i + 1];
    return undefined;
  }

  // ── the request body, fed by the front door ─────────────────────────────────────────────

  /** Before the first body bytes: a body small enough is kept whole for retries, any other is streamed. */
  openBody(): void {
    if (this.contentLength <= 0 && !this.chunked) return;
    const f = this.route!.forwarder;
    this.body = new RequestBody(f !== null && f.keepsBody(this.contentLength, this.chunked), this.front);
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
          (v) => (v === null ? this.runRequestStages(stages, i + 1) : this.reply(v)),
          (err) => this.stageFailed(stages[i], err),
        );
        return;
      }
      return this.reply(verdict);
    }
    this.forward();
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
    const stages = this.route!.onResponse;
    if (stages !== null) for (const s of stages) s.onResponse!(this, head);
    this.front.writeHead(head, more);
  }

  writeChunk(chunk: Buffer): boolean {
    return this.front.writeChunk(chunk);
  }

  end(): void {
    this.front.end();
  }

  reply(r: LocalReply): void {
    this.front.reply(r);
  }

  fail(code: ErrorCode, detail?: string): void {
    this.front.fail(code, detail);
  }

  /** The client drained: more of the response may flow. */
  resume(): void {
    this.leg?.resume();
  }

  /** The front door is done with the request (answered, failed, or the client went away). Runs once. */
  finish(clientGone: boolean): void {
    if (this.finished) return;
    this.finished = true;
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
  get errorCode(): ErrorCode | null {
    return this.front.errorCode;
  }
  get bytesOut(): number {
    return this.front.bytesWritten;
  }
  get durationMs(): number {
    return performance.now() - this.startedAt;
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
    return this.route === null ? null : this.routeName;
  }
}

function isThenable(v: unknown): v is Promise<LocalReply | null> {
  return typeof (v as { then?: unknown }).then === 'function';
}
