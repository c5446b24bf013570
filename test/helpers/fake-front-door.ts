import pino from 'pino';
import type { ErrorCode } from '../../src/errors/catalog.js';
import type { FrontDoor } from '../../src/pipeline/downstream.js';
import { Exchange } from '../../src/pipeline/exchange.js';
import type { LocalReply, ResponseHead } from '../../src/pipeline/phase.js';
import type { RouteRuntime } from '../../src/pipeline/route-runtime.js';

/**
 * A front door that records what the exchange writes instead of writing to a socket, for in-process
 * tests of the pipeline. `room` is what writeChunk answers (false = the client is slow); call
 * `drained()` to play the client's socket draining. It ends the exchange (finish) the way the uWS
 * front door does: once the response is complete, replied, cut, or the client went away.
 */
export class FakeFrontDoor implements FrontDoor {
  readonly ex: Exchange;
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  head: ResponseHead | null = null;
  replied: LocalReply | null = null;
  room = true;
  readingResumed = 0;
  status = 0;
  errorCode: ErrorCode | null = null;
  bytesWritten = 0;
  bytesIn = 0;
  private done = false;
  private gone = false;
  private headSent = false;

  constructor(route: RouteRuntime, request: { method?: string; contentLength?: number; chunked?: boolean; headers?: string[] } = {}) {
    this.ex = new Exchange(this, pino({ level: 'silent' }));
    const ex = this.ex;
    ex.id = 'req-1';
    ex.method = request.method ?? 'GET';
    ex.path = '/x';
    ex.host = 'example.test';
    ex.rawHeaders = request.headers ?? [];
    ex.contentLength = request.contentLength ?? -1;
    ex.chunked = request.chunked ?? false;
    ex.peerAddress = ex.clientAddress = '127.0.0.1';
    ex.route = route;
  }

  get responseStarted(): boolean {
    return this.headSent;
  }
  get closed(): boolean {
    return this.done || this.gone;
  }

  writeHead(head: ResponseHead): void {
    this.head = head;
    this.headSent = true;
    this.status = head.status;
    this.events.push(`head ${head.status}`);
  }
  writeChunk(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    this.bytesWritten += chunk.length;
    return this.room;
  }
  end(): void {
    this.events.push('end');
    this.complete();
  }
  reply(r: LocalReply): void {
    if (this.closed) return;
    if (this.headSent) return this.cut(r.code);
    this.replied = r;
    this.status = r.status;
    this.errorCode = r.code;
    this.events.push(`reply ${r.status}`);
    this.complete();
  }
  fail(code: ErrorCode): void {
    if (this.closed) return;
    if (this.headSent) return this.cut(code);
    this.reply({ status: 502, code });
  }
  resumeReading(): void {
    this.readingResumed++;
  }

  /** The client's socket has room again. */
  drained(): void {
    this.room = true;
    this.ex.resume();
  }
  /** The client goes away. */
  abort(): void {
    if (this.closed) return;
    this.gone = true;
    if (!this.headSent) this.status = 499;
    this.events.push('aborted');
    this.ex.finish(true);
  }
  body(): string {
    return Buffer.concat(this.chunks).toString();
  }

  private cut(code: ErrorCode | null): void {
    this.errorCode = code;
    this.events.push('cut');
    this.complete();
  }
  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.ex.finish(false);
  }
}
