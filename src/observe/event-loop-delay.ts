import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** How long one window of event-loop delay lasts: the p99 a scrape sees is of the last full window. */
const WINDOW_MS = 10_000;
/** Node times a timer of this period and records each interval: the delay is what exceeds it. */
const RESOLUTION_MS = 10;

/**
 * The p99 of this thread's event-loop delay (Node samples it every 10 ms in C++, costing the loop
 * nothing measurable). Windows of 10 s, so a scrape every 15 s and a dashboard every 2 s read the
 * same figure rather than resetting each other's.
 */
export class EventLoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private lastP99Ms = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.h.enable();
    this.timer = setInterval(() => this.roll(), WINDOW_MS).unref();
  }

  /** The last full window's p99, or the current window's until one is full; in milliseconds. */
  get p99Ms(): number {
    return this.lastP99Ms > 0 ? this.lastP99Ms : this.current();
  }

  close(): void {
    clearInterval(this.timer);
    this.h.disable();
  }

  private roll(): void {
    this.lastP99Ms = this.current();
    this.h.reset();
  }

  private current(): number {
    return this.h.count === 0 ? 0 : Math.max(0, this.h.percentile(99) / 1e6 - RESOLUTION_MS);
  }
}
