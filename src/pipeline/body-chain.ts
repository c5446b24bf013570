/**
 * The body phase: stages that see, replace or transform a message body as it streams, in either
 * direction, with backpressure. A stage makes one BodyTransform per message (onRequestBody /
 * onResponseBody) and writes its output to the BodySink it was given; the chain links the
 * transforms in stage order between the message's source and its destination:
 *
 *   source ─write─▶ T1 ─push─▶ T2 ─push─▶ … ─push─▶ destination
 *          ◀─ready─    ◀─ready─           ◀─drain── (destination has room again)
 *
 * A false from push means "the next one is full": the transform stops pushing and waits for its
 * drain(). A false from write means "I hold too much": its feeder stops writing until the transform
 * calls its sink's ready(), which it must do once it can take more (typically in drain(), after
 * pushing what it held). A transform may push synchronously inside write (a byte filter: it returns
 * what push returned, and its drain() just calls ready()), later (a compressor fed by zlib), or not
 * until end (a buffering one). Transforms must not throw.
 */
export interface BodyTransform {
  /** One chunk of the body. False: hold further chunks until this transform calls sink.ready(). */
  write(chunk: Buffer): boolean;
  /** The body ended: push what is still held, then call sink.end() (now or later). */
  end(): void;
  /** The next one took the chunks it refused: push held output again. */
  drain(): void;
  /** The exchange ended before the body did: release what is held; the sink is dead from now on. */
  destroy(): void;
}

/** Where a transform sends its output. */
export interface BodySink {
  /** False: the next one is full; push no more until drain(). */
  push(chunk: Buffer): boolean;
  /** The transformed body is complete. */
  end(): void;
  /** This transform takes chunks again (after its write returned false). */
  ready(): void;
}

/** The two ends a chain sits between. */
export interface ChainEnds {
  /** The destination takes a chunk; false when it is full (it will call the chain's drain()). */
  deliver(chunk: Buffer): boolean;
  /** The destination's body is complete. */
  finish(): void;
  /** The chain takes chunks again: let the source write. */
  resumeSource(): void;
}

export class BodyChain {
  private readonly transforms: BodyTransform[] = [];
  private dead = false;

  private constructor(private readonly ends: ChainEnds) {}

  /**
   * One transform per maker that wants this body (a maker returns null to let it pass), or null when
   * none does: then the body goes straight from source to destination.
   */
  static build<S>(makers: readonly S[], make: (maker: S, sink: BodySink) => BodyTransform | null, ends: ChainEnds): BodyChain | null {
    const chain = new BodyChain(ends);
    for (const m of makers) {
      const t = make(m, new Link(chain, chain.transforms.length));
      if (t !== null) chain.transforms.push(t);
    }
    return chain.transforms.length === 0 ? null : chain;
  }

  write(chunk: Buffer): boolean {
    return this.dead || this.transforms[0].write(chunk);
  }

  end(): void {
    if (!this.dead) this.transforms[0].end();
  }

  /** The destination has room again. */
  drain(): void {
    if (!this.dead) this.transforms[this.transforms.length - 1].drain();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    for (const t of this.transforms) t.destroy();
  }

  /** Output of transform `i`. */
  pushFrom(i: number, chunk: Buffer): boolean {
    if (this.dead) return true;
    return i + 1 < this.transforms.length ? this.transforms[i + 1].write(chunk) : this.ends.deliver(chunk);
  }

  endFrom(i: number): void {
    if (this.dead) return;
    if (i + 1 < this.transforms.length) this.transforms[i + 1].end();
    else this.ends.finish();
  }

  readyAt(i: number): void {
    if (this.dead) return;
    if (i > 0) this.transforms[i - 1].drain();
    else this.ends.resumeSource();
  }
}

/** Transform i's sink: what it pushes goes to transform i + 1, or out of the chain. */
class Link implements BodySink {
  constructor(
    private readonly chain: BodyChain,
    private readonly i: number,
  ) {}

  push(chunk: Buffer): boolean {
    return this.chain.pushFrom(this.i, chunk);
  }

  end(): void {
    this.chain.endFrom(this.i);
  }

  ready(): void {
    this.chain.readyAt(this.i);
  }
}
