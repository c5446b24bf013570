import pino from 'pino';
import { catalog, type ErrorCode } from '../../src/errors/catalog.js';
import { lineName, lineValue } from '../../src/http/head-lines.js';
import { AccessLog } from '../../src/observe/access-log.js';
import { WorkerMetrics } from '../../src/observe/worker-metrics.js';
import type { LegHandle, LegRequest, TrySpans } from '../../src/pipeline/downstream.js';
import type { LocalReply, ResponseHead, UpstreamRequestHead } from '../../src/pipeline/phase.js';
import { RequestBody } from '../../src/pipeline/request-body.js';
import type { Principal, RequestCtx, TraceContext } from '../../src/pipeline/request-ctx.js';
import { EndpointRows } from '../../src/primary/endpoint-rows.js';
import { loadPlanText } from '../../src/primary/load-plan.js';
import { EndpointHealth } from '../../src/shared/endpoint-health.js';
import { createSharedState } from '../../src/shared/shared-state.js';
import { UpstreamTable } from '../../src/shared/upstream-table.js';
import { stageTableBytes } from '../../src/stages/registry.js';
import { PoolSet } from '../../src/upstream/pools.js';
import { KeptResources } from '../../src/worker/kept-resources.js';
import { buildRuntime, type Runtime } from '../../src/worker/runtime.js';
import { ServiceViews } from '../../src/worker/service-views.js';

/**
 * The upstream leg in-process: a config compiled and bound to fresh shared tables as the primary
 * does, a worker runtime built from it with real pools, and requests that are FakeDownstreams.
 * What a client would get is what the fake records; what reached the upstream is what the test's
 * real upstream sockets saw.
 */
export interface LegHarness {
  readonly runtime: Runtime;
  readonly pools: PoolSet;
  /** Every log line of the worker side (pino, level info), parsed. */
  readonly logs: Record<string, any>[];
  /** A request routed like the front door routes it, its leg created but not started. */
  request(r?: FakeRequest): { down: FakeDownstream; leg: LegHandle };
  /** request() then leg.start(). */
  start(r?: FakeRequest): { down: FakeDownstream; leg: LegHandle };
  /** Destroy every pool (their connections close) and stop the access log. */
  close(): Promise<void>;
}

export interface FakeRequest {
  method?: string;
  path?: string;
  query?: string;
  /** Sent with a Content-Length; kept or streamed as the route's forwarder decides. */
  body?: Buffer | string;
  /** Extra request headers: flat [lower-case name, value, ...]. */
  headers?: string[];
}

export function legHarness(yaml: string): LegHarness {
  const logs: Record<string, any>[] = [];
  const log = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logs.push(JSON.parse(line));
      },
    },
  );
  const { plan } = loadPlanText(yaml, 'leg-test.yaml');
  // What the primary does: shared tables for the process, rows assigned by upstream and endpoint.
  const shared = createSharedState(stageTableBytes(plan.stageSettings));
  const health = new EndpointHealth(shared.endpointTable);
  const upstreamTable = new UpstreamTable(shared.upstreamTable);
  const bound = new EndpointRows(health, upstreamTable, log).bind(plan, new Map());
  // What a worker does (worker/main.ts).
  const pools = new PoolSet();
  const access = new AccessLog({ write: () => {} }, { pid: process.pid, worker: 0 }, null);
  const kept = new KeptResources();
  const serviceViews = new ServiceViews({});
  const runtime = buildRuntime(bound, { pools, log, access, shared, kept, health, upstreamTable, serviceViews, metrics: new WorkerMetrics() });
  let ids = 0;

  const request = (r: FakeRequest = {}) => {
    const method = r.method ?? 'GET';
    const path = r.path ?? '/';
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    const rawHeaders = ['host', 'gw.test', ...(r.headers ?? [])];
    if (body !== undefined) rawHeaders.push('content-length', String(body.length));
    const routing = { method, scheme: 'http' as const, host: 'gw.test', path, query: r.query ?? '', header: (n: string) => headerOf(rawHeaders, n) };
    const match = runtime.router.find(routing);
    if (match === null) throw new Error(`no route for ${method} ${path}`);
    const forwarder = match.route.forwarder;
    if (forwarder === null) throw new Error(`route ${match.route.name} has no upstream`);
    let requestBody: RequestBody | null = null;
    if (body !== undefined) {
      // As Exchange.openBody: kept whole when a retry may need it, else streamed.
      requestBody = new RequestBody(forwarder.keepsBody(body.length, false), false, { resumeReading: () => {} });
      requestBody.push(body, true);
    }
    const ctx: RequestCtx = {
      id: `leg-${++ids}`,
      method,
      path,
      query: r.query ?? '',
      logQuery: null,
      host: 'gw.test',
      scheme: 'http',
      peerAddress: '127.0.0.1',
      clientAddress: '127.0.0.1',
      forwardedFor: '127.0.0.1',
      peerTrusted: false,
      principal: null as Principal | null,
      trace: null as TraceContext | null,
      routeName: match.route.name,
      params: match.params,
      rawHeaders,
      contentLength: body === undefined ? -1 : body.length,
      chunked: false,
      header: (n: string) => headerOf(rawHeaders, n),
      stageState: null,
    };
    const down = new FakeDownstream(ctx, requestBody);
    const leg = forwarder.createLeg(down);
    down.leg = leg;
    return { down, leg };
  };

  return {
    runtime,
    pools,
    logs,
    request,
    start(r) {
      const made = request(r);
      made.leg.start();
      return made;
    },
    async close() {
      pools.closeAll();
      access.close();
      await kept.closeAll();
    },
  };
}

function headerOf(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === lowerName) return raw[i + 1];
  return undefined;
}

/**
 * The request as the upstream leg sees it (LegRequest), recording what a client would get instead
 * of writing to a socket. It ends the way the front door and exchange do: once the response is
 * complete, replied, failed or cut it is closed and its leg is released (release(false)); gone()
 * plays the client going away (release(true)). `room` is what writeChunk answers: false plays a
 * slow client, whose drain the test plays by setting it back and calling leg.resume().
 */
export class FakeDownstream implements LegRequest {
  leg: LegHandle | null = null;
  /** head STATUS, end, reply STATUS CODE, fail CODE, cut CODE: in order, whenever they were called. */
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  /** Each try's upstream head, after onUpstreamRequest (a copy). */
  readonly upstreamHeads: UpstreamRequestHead[] = [];
  head: ResponseHead | null = null;
  /** The upstream's response headers as relayed (lower-case names). */
  headers: Record<string, string> = {};
  replied: LocalReply | null = null;
  /** What the client got: the relayed status, a reply's, or the error's status from the catalog. */
  status = 0;
  code: ErrorCode | null = null;
  bytes = 0;
  /** writeChunk calls. */
  writes = 0;
  room = true;
  trySpans: TrySpans | null = null;
  /** When set, body chunks go here instead of being kept in `chunks` (large bodies). */
  onChunk: ((chunk: Buffer) => void) | null = null;
  /** Calls of any writing method after the request was closed: none should come. */
  writesAfterClose = 0;
  private done = false;
  private isGone = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly ctx: RequestCtx,
    readonly body: RequestBody | null,
  ) {}

  get responseStarted(): boolean {
    return this.head !== null;
  }
  get closed(): boolean {
    return this.done || this.isGone;
  }
  /** The response ended one way or another (not merely the client going away). */
  get settled(): boolean {
    return this.done;
  }

  onUpstreamRequest(head: UpstreamRequestHead): void {
    this.upstreamHeads.push({ path: head.path, query: head.query, headers: [...head.headers] });
  }

  writeHead(head: ResponseHead): void {
    if (this.closed) this.writesAfterClose++;
    this.events.push(`head ${head.status}`);
    this.head = head;
    this.status = head.status;
    const lines = head.upstream;
    for (let k = 0; k < lines.at.length; k += 4) this.headers[lineName(lines, k).toLowerCase()] = lineValue(lines, k);
  }

  writeChunk(chunk: Buffer): boolean {
    if (this.closed) this.writesAfterClose++;
    if (this.onChunk !== null) this.onChunk(chunk);
    else this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
    this.writes++;
    return this.room;
  }

  end(): void {
    if (this.closed) this.writesAfterClose++;
    this.events.push('end');
    this.complete();
  }

  reply(r: LocalReply): void {
    if (this.closed) {
      this.writesAfterClose++;
      return;
    }
    if (this.head !== null) return this.cut(r.code);
    this.events.push(`reply ${r.status} ${r.code}`);
    this.replied = r;
    this.status = r.status;
    this.code = r.code;
    this.complete();
  }

  fail(code: ErrorCode): void {
    if (this.closed) {
      this.writesAfterClose++;
      return;
    }
    if (this.head !== null) return this.cut(code);
    this.events.push(`fail ${code}`);
    this.status = catalog[code].status;
    this.code = code;
    this.complete();
  }

  /**
   * The gateway ends the response by itself while the upstream's answer is still coming (a body stage
   * ended it early, say): the front door is done, the client still there.
   */
  endedByGateway(): void {
    if (this.closed) return;
    this.events.push('ended by the gateway');
    this.complete();
  }

  /** The client goes away: the exchange finishes with clientGone. */
  gone(): void {
    if (this.closed) return;
    this.isGone = true;
    this.leg?.release(true);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Resolves once the response is over; rejects after `ms` saying what was seen so far. */
  finished(ms = 3000): Promise<this> {
    if (this.done) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms; events: ${JSON.stringify(this.events)}, ${this.bytes} body bytes`)), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(this);
      });
    });
  }

  private cut(code: ErrorCode | null): void {
    this.events.push(`cut ${code}`);
    this.code = code;
    this.complete();
  }

  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.leg?.release(false);
    for (const w of this.waiters.splice(0)) w();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
