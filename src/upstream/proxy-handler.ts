import type { Dispatcher } from 'undici';
import type { Exchange } from '../worker/exchange.js';

/**
 * undici's view of one upstream attempt. Translates its callbacks into exchange writes, with
 * backpressure: a false from writeChunk pauses the upstream until the client drains.
 */
export class ProxyHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly ex: Exchange,
    private readonly failed: (ex: Exchange, err: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.ex.aborted || this.ex.finished) controller.abort(new Error('client aborted'));
    else this.ex.controller = controller;
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // 1xx informational: not relayed
    this.ex.writeResponseHead(status, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.ex.writeChunk(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.ex.endResponse();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.failed(this.ex, err);
  }
}
