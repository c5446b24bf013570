import { powerOfTwo, type Balancer, type Candidates } from './balancer.js';

/** How fast old latency is forgotten (ms): after DECAY_MS a sample weighs 1/e as much. */
const DECAY_MS = 10_000;

/**
 * Latency-aware, as Finagle and Linkerd do it: each endpoint's cost is its peak-EWMA response time
 * (a slower sample is taken at once, a faster one only eases the average down) × its requests in
 * flight + 1; the cheaper of two random endpoints wins. A slow endpoint loses traffic within a few
 * requests and wins it back gradually once it is fast again.
 */
export class PeakEwma implements Balancer {
  private readonly ewma: Float64Array;
  private readonly stamp: Float64Array;
  private c: Candidates | null = null;
  private readonly score = (i: number): number => (this.ewma[i] + 1e-3) * (this.c!.inFlight(i) + 1) / this.c!.weight(i);

  constructor(count: number) {
    this.ewma = new Float64Array(count);
    this.stamp = new Float64Array(count);
  }

  pick(c: Candidates): number {
    this.c = c;
    return powerOfTwo(c, this.score);
  }

  observe(i: number, rttMs: number, now: number): void {
    const old = this.ewma[i];
    if (rttMs > old) {
      this.ewma[i] = rttMs;
    } else {
      const w = Math.exp(-Math.max(0, now - this.stamp[i]) / DECAY_MS);
      this.ewma[i] = old * w + rttMs * (1 - w);
    }
    this.stamp[i] = now;
  }
}
