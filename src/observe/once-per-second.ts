import { performance } from 'node:perf_hooks';

/**
 * Counts repeated events and lets at most one log line a second through, so a failure that happens
 * on every request (a dead store, an exhausted budget) does not become a log line per request.
 */
export class OncePerSecond {
  private count = 0;
  private lastLine = -Infinity;

  /** Counts one event. Returns how many happened since the last line when a line is due now, else 0. */
  hit(): number {
    this.count++;
    const now = performance.now();
    if (now - this.lastLine < 1000) return 0;
    this.lastLine = now;
    const n = this.count;
    this.count = 0;
    return n;
  }
}
