import { performance } from 'node:perf_hooks';
import { type Balancer, type Candidates, powerOfTwo } from './balancer.js';

/** How fast old latency is forgotten (ms): after DECAY_MS a sample weighs 1/e as much. */
const DECAY_MS = 10_000;
/** A failed try counts as at least this slow, so an endpoint that fails fast does not attract traffic... */
const FAILURE_PENALTY_MS = 500;
/** ...and at most this slow, so a run of failures cannot push an endpoint out of reach for minutes. */
const MAX_PENALTY_MS = 10_000;

/**
 * Latency-aware, as Finagle and Linkerd do it: each endpoint's cost is its peak-EWMA response time
 * (a slower sample is taken at once, a faster one only eases the average down) × its requests in
 * flight + 1; the cheaper of two random endpoints wins. A slow endpoint loses traffic within a few
 * requests and wins it back gradually: its average decays with time even while it gets no traffic, so
 * it is tried again once it has decayed below the others' cost.
 */
export class PeakEwma implements Balancer {
  private readonly ewma: Float64Array;
  private readonly stamp: Float64Array;
  private c: Candidates | null = null;
  private now = 0;
  private readonly score = (i: number): number => ((this.decayed(i, this.now) + 1e-3) * (this.c!.inFlight(i) + 1)) / this.c!.weight(i);

  constructor(count: number) {
    this.ewma = new Float64Array(count);
    this.stamp = new Float64Array(count);
  }

  pick(c: Candidates): number {
    this.c = c;
    this.now = performance.now();
    return powerOfTwo(c, this.score);
  }

  observe(i: number, rttMs: number, failed: boolean): void {
    const now = performance.now();
    const sample = failed ? Math.min(Math.max(rttMs, 2 * this.decayed(i, now), FAILURE_PENALTY_MS), MAX_PENALTY_MS) : rttMs;
    const old = this.ewma[i];
    if (sample > old) {
      this.ewma[i] = sample;
    } else {
      const w = Math.exp(-Math.max(0, now - this.stamp[i]) / DECAY_MS);
      this.ewma[i] = old * w + sample * (1 - w);
    }
    this.stamp[i] = now;
  }

  /** The average as of `now`: it keeps decaying (toward 0) while no sample arrives. */
  private decayed(i: number, now: number): number {
    return this.ewma[i] * Math.exp(-Math.max(0, now - this.stamp[i]) / DECAY_MS);
  }
}
