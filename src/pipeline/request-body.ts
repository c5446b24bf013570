import { Readable } from 'node:stream';

/**
 * A request body on its way upstream, fed as the client sends it (by the front door, or by the request
 * body phase when stages transform it). Either kept whole (small enough for retries.buffer_bytes, so a
 * retry can send it again) or streamed through a Readable the upstream client reads with backpressure
 * both ways: when the stream's buffer is full, push() says so and the feeder stops; the upstream
 * client's next read calls the feeder's resumeReading().
 */
export class RequestBody {
  /** Kept: the chunks while they arrive, then `kept` once complete. */
  private parts: Buffer[] | null;
  kept: Buffer | null = null;
  /** Streamed: what the upstream client reads. */
  readonly stream: BodyStream | null;
  /** Every byte of the body has been received. */
  complete = false;
  /** Sent upstream without a Content-Length, in chunked framing (the client's was chunked, or a stage transforms it). */
  readonly chunked: boolean;
  private waiter: { bodyComplete(): void } | null = null;

  constructor(keep: boolean, chunked: boolean, feeder: { resumeReading(): void }) {
    this.chunked = chunked;
    this.parts = keep ? [] : null;
    this.stream = keep ? null : new BodyStream(feeder);
  }

  /**
   * One piece, owned by the body from now on. Returns false when the stream's buffer is full: stop
   * reading from the client until resumeReading().
   */
  push(chunk: Buffer | null, last: boolean): boolean {
    if (this.complete) return true;
    let more = true;
    const stream = this.stream;
    if (stream !== null) {
      if (stream.destroyed) return true;
      if (chunk !== null && chunk.length > 0) more = stream.push(chunk);
      if (last) stream.push(null);
    } else if (chunk !== null && chunk.length > 0) {
      this.parts!.push(chunk);
    }
    if (last) this.completed();
    return more || last;
  }

  /** Tell `waiter` once the whole body is here (now, if it is). */
  whenComplete(waiter: { bodyComplete(): void }): void {
    if (this.complete) waiter.bodyComplete();
    else this.waiter = waiter;
  }

  /** The exchange ended: a stream still open ends as an error for its reader. */
  destroy(): void {
    this.waiter = null;
    if (this.stream !== null && !this.stream.destroyed) this.stream.destroy();
  }

  private completed(): void {
    this.complete = true;
    const parts = this.parts;
    if (parts !== null) {
      this.kept = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      this.parts = null;
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.bodyComplete();
  }
}

class BodyStream extends Readable {
  constructor(private readonly feeder: { resumeReading(): void }) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.feeder.resumeReading();
  }
}
